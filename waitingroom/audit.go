package waitingroom

import (
	"context"
	"encoding/json"
	"fmt"
)

// Record writes an admin action that belongs to no one sale (the blocklist,
// say) to the audit log.
func (o *Operator) Record(ctx context.Context, action, actor string, detail any) error {
	body, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	_, err = o.catalog.db.ExecContext(ctx,
		`INSERT INTO admin_actions (sale_id, action, detail, actor) VALUES (NULL, $1, $2, $3)`, action, body, actor)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}
