package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jmoiron/sqlx"

	"github.com/foyerhq/foyer/checkout"
)

// PaymentProvider is what reconciling with the payment provider needs of
// it: the sale's payments as it tells them, and a refund
// (internal/stripepay.Provider, checkout.TestProvider).
type PaymentProvider interface {
	Payments(ctx context.Context, saleID string) iter.Seq2[checkout.ProviderPayment, error]
	RefundPayment(ctx context.Context, ref string, orderID int64) error
}

// ResultSettler settles payment results as the order workers do
// (worker.PaymentSettler): marking an order paid through it keeps every
// invariant the worker keeps (only a pending order is marked, its events
// recorded in the same transaction, its shopper told). TellRefunded tells
// the shopper of a cancelled order that a payment of it was refunded, as the
// worker tells of its own refunds (nothing for an order not cancelled).
type ResultSettler interface {
	Handle(msg *message.Message) error
	TellRefunded(ctx context.Context, orderID int64) error
}

// The kinds of difference between the provider's payments and the orders.
const (
	// KindPaidNotHere: paid at the provider, its order still waits for
	// payment here. Repair marks the order paid, unless the payment's
	// amount or currency is not the order's.
	KindPaidNotHere = "paid at the provider, not here"
	// KindPaidCancelled: paid at the provider, its order cancelled here (its
	// unit back in the sale). Repair refunds the payment.
	KindPaidCancelled = "paid at the provider, order cancelled"
	// KindNotPaidThere: paid here, but the provider has no paid payment for
	// the order. Never repaired: an operator looks.
	KindNotPaidThere = "paid here, not at the provider"
	// KindAmount: the payment's amount or currency is not the order's.
	// Never repaired.
	KindAmount = "amount or currency differs"
	// KindNoOrder: a payment, not failed nor refunded, that names no order
	// of the sale. Repair refunds it when it is paid.
	KindNoOrder = "payment with no order"
	// KindPaidTwice: a second paid payment for an order paid already.
	// Repair refunds it.
	KindPaidTwice = "paid twice at the provider"
)

// Fixes repair applies.
const (
	fixMarkPaid = "mark paid"
	fixRefund   = "refund"
)

// Difference is one disagreement between the provider and the orders.
type Difference struct {
	Kind        string
	OrderID     int64  // 0: no order
	OrderStatus string // the order's status here, "" with no order
	PaymentID   string // "" when the provider has none
	Here        string // the order's amount, "1500 EUR"
	Provider    string // the payment's amount and status, "1500 EUR paid"
	Fix         string // what --repair does: fixMarkPaid, fixRefund or "" (nothing)

	saleID      string
	reservation string // the order's
	amountCents int64  // the payment's, given back when it is refunded
	currency    string // the payment's
}

// PaymentReport is the outcome of reconciling a sale with its provider.
type PaymentReport struct {
	SaleID      string
	Payments    int // payments the provider listed
	Orders      int // orders of the sale
	Differences []Difference
	// Repaired and Unrepaired say what Repair did, one line each.
	Repaired, Unrepaired []string
	repairedN            int
}

// Consistent reports whether nothing is left to look at: no difference,
// or every one repaired.
func (r PaymentReport) Consistent() bool { return len(r.Differences) == r.repairedN }

// Print writes the report: the counts, each difference, what repair did.
func (r PaymentReport) Print(w io.Writer) {
	fmt.Fprintf(w, "sale %s: %d payments at the provider, %d orders\n", r.SaleID, r.Payments, r.Orders)
	for _, d := range r.Differences {
		fix := d.Fix
		if fix == "" {
			fix = "none: look into it"
		}
		fmt.Fprintf(w, "DIFFERENT  %s: order %s (%s), payment %s (%s); repair: %s\n", d.Kind,
			orderName(d.OrderID), orNone(d.OrderStatus+" "+d.Here), orNone(d.PaymentID), orNone(d.Provider), fix)
	}
	for _, l := range r.Repaired {
		fmt.Fprintln(w, "repaired   "+l)
	}
	for _, l := range r.Unrepaired {
		fmt.Fprintln(w, "NOT REPAIRED  "+l)
	}
	switch {
	case len(r.Differences) == 0:
		fmt.Fprintln(w, "no difference")
	case r.Consistent():
		fmt.Fprintf(w, "%d differences, all repaired\n", len(r.Differences))
	case len(r.Repaired)+len(r.Unrepaired) == 0:
		fmt.Fprintf(w, "%d differences: run with --repair to apply the safe fixes\n", len(r.Differences))
	default:
		fmt.Fprintf(w, "%d differences, %d repaired: the rest need an operator\n", len(r.Differences), r.repairedN)
	}
}

func orderName(id int64) string {
	if id == 0 {
		return "none"
	}
	return fmt.Sprint(id)
}

func orNone(s string) string {
	if s == "" || s == " " {
		return "-"
	}
	return s
}

// progressEvery is how many payments are read between two progress lines.
const progressEvery = 500

// PaymentReconciler lays a sale's payments at the provider beside its
// orders in Postgres.
type PaymentReconciler struct {
	db       *sqlx.DB
	provider PaymentProvider
	settler  ResultSettler
	// Progress gets a line every progressEvery payments read and every
	// repair made, for long runs; nil writes none.
	Progress io.Writer
}

// NewPaymentReconciler returns a reconciler of the orders in db with
// provider, which marks orders paid through settler.
func NewPaymentReconciler(db *sqlx.DB, provider PaymentProvider, settler ResultSettler) *PaymentReconciler {
	return &PaymentReconciler{db: db, provider: provider, settler: settler}
}

// saleOrder is what reconciling needs of an order.
type saleOrder struct {
	ID            int64  `db:"id"`
	ReservationID string `db:"reservation_id"`
	Quantity      int64  `db:"quantity"`
	PriceCents    int64  `db:"price_cents"`
	Currency      string `db:"currency"`
	Status        string `db:"status"`
	ShopPaid      bool   `db:"shop_paid"` // redeemed by a shop that took the money itself
}

func (o saleOrder) amount() string { return fmt.Sprintf("%d %s", o.PriceCents*o.Quantity, o.Currency) }

func (r *PaymentReconciler) orders(ctx context.Context, saleID string) ([]saleOrder, error) {
	var exists bool
	if err := r.db.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM sales WHERE id = $1)`, saleID); err != nil {
		return nil, fmt.Errorf("read sale %s: %w", saleID, err)
	}
	if !exists {
		return nil, fmt.Errorf("read sale %s from postgres: %w", saleID, ErrNoSale)
	}
	var orders []saleOrder
	if err := r.db.SelectContext(ctx, &orders, `SELECT o.id, o.reservation_id, o.quantity, o.price_cents, s.currency,
		o.status, o.shop_order_ref IS NOT NULL AS shop_paid
		FROM orders o JOIN sales s ON s.id = o.sale_id WHERE o.sale_id = $1 ORDER BY o.id`, saleID); err != nil {
		return nil, fmt.Errorf("read the orders of sale %s: %w", saleID, err)
	}
	return orders, nil
}

// Run reads the sale's orders, then its payments at the provider, and
// reports where they differ. It changes nothing.
func (r *PaymentReconciler) Run(ctx context.Context, saleID string) (PaymentReport, error) {
	orders, err := r.orders(ctx, saleID)
	if err != nil {
		return PaymentReport{}, err
	}
	rep := PaymentReport{SaleID: saleID, Orders: len(orders)}
	byID := make(map[int64]*saleOrder, len(orders))
	byReservation := make(map[string]*saleOrder, len(orders))
	for i := range orders {
		byID[orders[i].ID], byReservation[orders[i].ReservationID] = &orders[i], &orders[i]
	}
	paidFor := map[int64]bool{} // orders with a paid payment, refunded or not
	refundedFor := map[int64]bool{}
	add := func(kind string, o *saleOrder, pay checkout.ProviderPayment, fix string) {
		d := Difference{Kind: kind, PaymentID: pay.ID, Fix: fix, saleID: saleID, amountCents: pay.AmountCents,
			currency: pay.Currency}
		if pay.ID != "" {
			d.Provider = fmt.Sprintf("%d %s %s", pay.AmountCents, pay.Currency, pay.Status)
			if pay.Refunded {
				d.Provider += ", refunded"
			}
		}
		if o != nil {
			d.OrderID, d.OrderStatus, d.Here, d.reservation = o.ID, o.Status, o.amount(), o.ReservationID
		}
		rep.Differences = append(rep.Differences, d)
	}
	for pay, err := range r.provider.Payments(ctx, saleID) {
		if err != nil {
			return PaymentReport{}, err
		}
		rep.Payments++
		if r.Progress != nil && rep.Payments%progressEvery == 0 {
			fmt.Fprintf(r.Progress, "sale %s: %d payments read\n", saleID, rep.Payments)
		}
		o := byID[pay.OrderID]
		if o == nil || pay.ReservationID != "" && o.ReservationID != pay.ReservationID {
			o = byReservation[pay.ReservationID]
		}
		paid := pay.Status == checkout.PaymentPaid && !pay.Refunded
		if o == nil {
			if paid {
				add(KindNoOrder, nil, pay, fixRefund)
			} else if pay.Status == checkout.PaymentPending && !pay.Refunded {
				add(KindNoOrder, nil, pay, "")
			}
			continue
		}
		amountOK := pay.AmountCents == o.PriceCents*o.Quantity && pay.Currency == o.Currency
		if !amountOK {
			add(KindAmount, o, pay, "")
		}
		if !paid {
			if pay.Status == checkout.PaymentPaid {
				refundedFor[o.ID] = true
			}
			continue
		}
		switch {
		case paidFor[o.ID]:
			add(KindPaidTwice, o, pay, fixRefund)
		case o.Status == "pending_payment" && amountOK:
			add(KindPaidNotHere, o, pay, fixMarkPaid)
		case o.Status == "pending_payment": // paid, but not what the order costs: an operator decides
			add(KindPaidNotHere, o, pay, "")
		case o.Status == "cancelled":
			add(KindPaidCancelled, o, pay, fixRefund)
		}
		paidFor[o.ID] = true
	}
	for i := range orders {
		o := &orders[i]
		if o.Status == "paid" && !o.ShopPaid && !paidFor[o.ID] {
			pay := checkout.ProviderPayment{}
			if refundedFor[o.ID] {
				pay.ID = "(refunded)"
			}
			add(KindNotPaidThere, o, pay, "")
		}
	}
	return rep, nil
}

// Repair applies the safe fix of each difference of rep: an order paid at
// the provider is marked paid through the settler; a paid payment with no
// order, for a cancelled order, or paid twice is refunded. Nothing else is
// touched: an order is never unmarked, nor an amount changed. A fix that
// fails is reported and the others still run; the error returned is one
// that stops all (ctx ended).
func (r *PaymentReconciler) Repair(ctx context.Context, rep *PaymentReport) error {
	for _, d := range rep.Differences {
		var line string
		var err error
		switch d.Fix {
		case fixMarkPaid:
			line, err = r.markPaid(ctx, d)
		case fixRefund:
			line, err = r.refund(ctx, d)
		default:
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			rep.Unrepaired = append(rep.Unrepaired, fmt.Sprintf("%s: %v", d.Kind, err))
			continue
		}
		rep.repairedN++
		rep.Repaired = append(rep.Repaired, line)
		if r.Progress != nil {
			fmt.Fprintln(r.Progress, "repaired: "+line)
		}
	}
	return nil
}

// refund gives a payment back and records it, and tells the order's shopper
// (a cancelled order's, whose page then shows it as it shows the worker's
// refunds). A shopper who could not be told does not undo the repair: the
// money went back, and the page shows the order cancelled, which it is; the
// line printed says so.
func (r *PaymentReconciler) refund(ctx context.Context, d Difference) (string, error) {
	if err := r.provider.RefundPayment(ctx, d.PaymentID, d.OrderID); err != nil {
		return "", err
	}
	if err := r.recordRefund(ctx, d); err != nil {
		return "", err
	}
	line := fmt.Sprintf("payment %s refunded (%s)", d.PaymentID, d.Kind)
	if d.OrderID != 0 && r.settler != nil {
		if err := r.settler.TellRefunded(ctx, d.OrderID); err != nil {
			line += fmt.Sprintf("; its shopper was not told: %v", err)
		}
	}
	return line, nil
}

// recordRefund writes a refund repair made, once per payment (the worker
// may have recorded it, or an earlier run), so the payments summary counts
// it. A payment that names no order is recorded without one.
func (r *PaymentReconciler) recordRefund(ctx context.Context, d Difference) error {
	var orderID *int64
	if d.OrderID != 0 {
		orderID = &d.OrderID
	}
	if _, err := r.db.ExecContext(ctx, `INSERT INTO refunds (payment_ref, sale_id, order_id, amount_cents, currency, reason)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (payment_ref) DO NOTHING`,
		d.PaymentID, d.saleID, orderID, d.amountCents, d.currency, "reconcile: "+d.Kind); err != nil {
		return fmt.Errorf("record the refund of payment %s: %w", d.PaymentID, err)
	}
	return nil
}

// errNotMarked means the settler left an order as it was: it was settled
// in the meantime (cancelled, say), and another run will see it anew.
var errNotMarked = errors.New("order not marked paid: it was settled meanwhile; run reconcile again")

// markPaid settles the order's payment as the worker settles a webhook's,
// and checks the order is paid now.
func (r *PaymentReconciler) markPaid(ctx context.Context, d Difference) (string, error) {
	msg, err := paymentMessage(ctx, d)
	if err != nil {
		return "", err
	}
	if err := r.settler.Handle(msg); err != nil {
		return "", fmt.Errorf("mark order %d paid: %w", d.OrderID, err)
	}
	var status string
	if err := r.db.GetContext(ctx, &status, `SELECT status FROM orders WHERE id = $1`, d.OrderID); err != nil {
		return "", fmt.Errorf("read order %d: %w", d.OrderID, err)
	}
	if status != "paid" {
		return "", fmt.Errorf("order %d is %s: %w", d.OrderID, status, errNotMarked)
	}
	return fmt.Sprintf("order %d marked paid (payment %s)", d.OrderID, d.PaymentID), nil
}

// ErrPaymentsDiffer means the provider's payments and the sale's orders
// differ, and repair (if asked) did not mend every difference.
var ErrPaymentsDiffer = errors.New("the provider's payments and the orders differ")

// Reconcile runs, repairs when asked, and prints the report to out. It
// returns ErrPaymentsDiffer while a difference is left: `foyer reconcile
// --payments` exits 1 on it.
func (r *PaymentReconciler) Reconcile(ctx context.Context, saleID string, repair bool, out io.Writer) error {
	rep, err := r.Run(ctx, saleID)
	if err != nil {
		return err
	}
	if repair {
		if err := r.Repair(ctx, &rep); err != nil {
			return err
		}
	}
	rep.Print(out)
	if !rep.Consistent() {
		return fmt.Errorf("sale %s: %w", saleID, ErrPaymentsDiffer)
	}
	return nil
}
