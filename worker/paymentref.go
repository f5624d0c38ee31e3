package worker

import (
	"context"
	"fmt"

	"github.com/lib/pq"
)

// maxPaymentRef is the longest payment ref an order keeps (the bound of
// orders.payment_ref, migration 00015). Stripe's ids are far shorter; a
// longer one is a provider's bug, and storing it would fail the message for
// ever, so it is left out: the status query then finds the payment by its
// order, as for an order charged before refs were kept.
const maxPaymentRef = 255

// storePaymentRefs writes the provider's id of each order's payment, as
// Charge answered it. A redelivered order is charged again and its provider
// answers the same payment (Stripe's idempotency key), so writing the ref
// again changes nothing; the row is written only when it differs, which
// spares Postgres a dead tuple per order on a redelivery.
func (w *OrderWriter) storePaymentRefs(ctx context.Context, refs map[int64]string) error {
	if len(refs) == 0 {
		return nil
	}
	ids, values := make([]int64, 0, len(refs)), make([]string, 0, len(refs))
	for id, ref := range refs {
		if len(ref) > maxPaymentRef {
			w.log.Warn("payment provider answered a payment id too long to keep; its status is looked up by the order",
				"order", id, "length", len(ref))
			continue
		}
		ids, values = append(ids, id), append(values, ref)
	}
	if _, err := w.db.ExecContext(ctx, `UPDATE orders o SET payment_ref = b.ref
		FROM unnest($1::bigint[], $2::text[]) AS b(id, ref)
		WHERE o.id = b.id AND o.payment_ref IS DISTINCT FROM b.ref`, pq.Array(ids), pq.Array(values)); err != nil {
		return fmt.Errorf("store the payment refs of %d orders: %w", len(ids), err)
	}
	return nil
}
