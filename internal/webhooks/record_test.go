package webhooks_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/foyerhq/foyer/internal/webhooks"
)

// TestAnEventsBodyIsRecordedByteForByte: what a delivery sends, and signs,
// is the body as the event was made: the escapes encoding/json writes
// (\u003c, \u2028, \"), non-ASCII text and the order of the fields come
// back from webhook_events as they went in, each body with its own event.
// A jsonb column, or a JSON type that normalises, would give "<" for
// \u003c and a signature the shop cannot check.
func TestAnEventsBodyIsRecordedByteForByte(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	names := []string{`<Tee> "Red" \ back`, "é 😀 \u2028 line", "{\"not\": [an, object]}", ""}
	data := make([]any, len(names))
	for i, name := range names {
		data[i] = webhooks.OrderData{OrderID: int64(i + 1), ProductName: name, Quantity: 1, Currency: "EUR", Status: "paid"}
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids, bodies, err := webhooks.RecordData(ctx, tx, webhooks.OrderPaid, saleID, data...)
	if err != nil {
		tx.Rollback()
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(bodies[0], []byte(`\u003cTee\u003e \"Red\" \\ back`)) {
		t.Fatalf("the test's body has not the escapes it means to check: %s", bodies[0])
	}
	for i, id := range ids {
		var got string
		if err := db.Get(&got, `SELECT body FROM webhook_events WHERE id = $1`, id); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if got != string(bodies[i]) {
			t.Errorf("event %d was recorded\n%s\nmade\n%s", i, got, bodies[i])
		}
	}
}
