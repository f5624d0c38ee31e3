package orders

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/foyerhq/foyer/internal/csvcell"
)

// csvHeader names the CSV download's columns, in order. Columns added
// later go last, so a shop's import reading the first ones by position
// keeps working.
var csvHeader = []string{"reservation_id", "transaction_id", "customer_id", "quantity", "amount_cents",
	"currency", "status", "confirmed_at", "created_at", "shop_order_ref", "sku", "product_name"}

// CSVWriter writes orders as CSV rows under a header row.
type CSVWriter struct {
	w      *csv.Writer
	header bool
}

// NewCSVWriter writes CSV to w.
func NewCSVWriter(w io.Writer) *CSVWriter { return &CSVWriter{w: csv.NewWriter(w)} }

// Write writes one order (and the header before the first).
func (c *CSVWriter) Write(o Order) error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	ref := ""
	if o.ShopOrderRef != nil {
		ref = *o.ShopOrderRef
	}
	row := []string{o.ReservationID, o.TransactionID, o.CustomerID, strconv.Itoa(o.Quantity),
		strconv.FormatInt(o.AmountCents, 10), o.Currency, o.Status,
		o.ConfirmedAt.UTC().Format(time.RFC3339Nano), o.CreatedAt.UTC().Format(time.RFC3339Nano), ref, o.SKU, o.ProductName}
	// A customer id, the shop's order reference and a product's sku and
	// name come from outside:
	// every cell is defused (CSV injection).
	for i, v := range row {
		row[i] = csvcell.Defuse(v)
	}
	if err := c.w.Write(row); err != nil {
		return fmt.Errorf("write order %s as CSV: %w", o.ReservationID, err)
	}
	return nil
}

// Flush writes the header if no order came, and what is buffered.
func (c *CSVWriter) Flush() error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	c.w.Flush()
	return c.w.Error()
}

func (c *CSVWriter) writeHeader() error {
	if c.header {
		return nil
	}
	c.header = true
	if err := c.w.Write(csvHeader); err != nil {
		return fmt.Errorf("write the CSV header: %w", err)
	}
	return nil
}
