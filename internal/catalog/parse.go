package catalog

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// An import is read whole and checked row by row before anything is
// written: the first bad row refuses it all, saying which row and why.
// Rows are numbered as a spreadsheet shows them: in CSV the header is row
// 1 and the first product row 2; in JSON the first product is row 1.

// columns are the CSV header's names; image_url and description may be
// left out.
var (
	columns  = []string{"sku", "name", "list_price_cents", "currency", "image_url", "description"}
	required = []string{"sku", "name", "list_price_cents", "currency"}
)

// ParseCSV reads an import in CSV with a header row naming its columns in
// any order.
func ParseCSV(r io.Reader) ([]Product, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 0 // every row as long as the header
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: the CSV is empty: a header row (%s) and one product a row",
			ErrInvalid, strings.Join(columns, ","))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: row 1: %v", ErrInvalid, err)
	}
	at := map[string]int{}
	for i, name := range header {
		name = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(name, "\ufeff"))) // a spreadsheet's BOM
		if !slices.Contains(columns, name) {
			return nil, fmt.Errorf("%w: row 1: unknown column %q (columns: %s)", ErrInvalid, name, strings.Join(columns, ", "))
		}
		if _, twice := at[name]; twice {
			return nil, fmt.Errorf("%w: row 1: column %q twice", ErrInvalid, name)
		}
		at[name] = i
	}
	for _, name := range required {
		if _, ok := at[name]; !ok {
			return nil, fmt.Errorf("%w: row 1: no column %q (required: %s)", ErrInvalid, name, strings.Join(required, ", "))
		}
	}
	cell := func(rec []string, name string) string {
		if i, ok := at[name]; ok {
			return rec[i]
		}
		return ""
	}
	var out []Product
	for row := 2; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: row %d: %v", ErrInvalid, row, err)
		}
		if len(out) == MaxRows {
			return nil, fmt.Errorf("%w: more than %d products in one import", ErrInvalid, MaxRows)
		}
		price, err := strconv.ParseInt(strings.TrimSpace(cell(rec, "list_price_cents")), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: row %d: list_price_cents must be a whole number of cents, not %q",
				ErrInvalid, row, cell(rec, "list_price_cents"))
		}
		out = append(out, Product{SKU: cell(rec, "sku"), Name: cell(rec, "name"), ListPriceCents: price,
			Currency: cell(rec, "currency"), ImageURL: cell(rec, "image_url"), Description: cell(rec, "description")})
	}
	return out, check(out, 2)
}

// jsonProduct is a product as JSON carries it; unknown fields are refused.
type jsonProduct struct {
	SKU            string `json:"sku"`
	Name           string `json:"name"`
	ListPriceCents int64  `json:"list_price_cents"`
	Currency       string `json:"currency"`
	ImageURL       string `json:"image_url"`
	Description    string `json:"description"`
}

// ParseJSON reads an import in JSON: {"products": [{...}, ...]}.
func ParseJSON(body []byte) ([]Product, error) {
	var doc struct {
		Products []json.RawMessage `json:"products"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: the JSON must be {\"products\": [...]}: %v", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: one JSON object, nothing after it", ErrInvalid)
	}
	if len(doc.Products) > MaxRows {
		return nil, fmt.Errorf("%w: %d products, more than %d in one import", ErrInvalid, len(doc.Products), MaxRows)
	}
	out := make([]Product, 0, len(doc.Products))
	for i, raw := range doc.Products {
		var jp jsonProduct
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&jp); err != nil {
			return nil, fmt.Errorf("%w: row %d: %v", ErrInvalid, i+1, err)
		}
		out = append(out, Product{SKU: jp.SKU, Name: jp.Name, ListPriceCents: jp.ListPriceCents,
			Currency: jp.Currency, ImageURL: jp.ImageURL, Description: jp.Description})
	}
	return out, check(out, 1)
}

// check refuses the import at its first bad row, or the first SKU given
// twice; first is the number of the first product's row.
func check(ps []Product, first int) error {
	if len(ps) == 0 {
		return fmt.Errorf("%w: no products to import", ErrInvalid)
	}
	rowOf := make(map[string]int, len(ps))
	for i, p := range ps {
		row := first + i
		if problems := p.problems(); len(problems) > 0 {
			return fmt.Errorf("%w: row %d: %s", ErrInvalid, row, strings.Join(problems, "; "))
		}
		if earlier, ok := rowOf[p.SKU]; ok {
			return fmt.Errorf("%w: row %d: sku %q is also in row %d", ErrInvalid, row, p.SKU, earlier)
		}
		rowOf[p.SKU] = row
	}
	return nil
}
