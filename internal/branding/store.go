package branding

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/foyerhq/foyer/internal/auditlog"
	"github.com/foyerhq/foyer/internal/pgtx"
)

// Store keeps sales' brandings in Postgres (table sale_branding).
type Store struct{ db *sqlx.DB }

// NewStore is a Store on db.
func NewStore(db *sqlx.DB) *Store { return &Store{db: db} }

// Stored is a sale's branding as kept, with the sale's name (the page's alt
// text) and when it last changed (zero: never set).
type Stored struct {
	Branding
	SaleName  string    `json:"sale_name" db:"sale_name"`
	UpdatedAt time.Time `json:"updated_at,omitzero" db:"updated_at"`
}

// AuditAction is the audit log's action for a change of branding.
const AuditAction = "branding"

// Set makes b the sale's whole branding, with its audit row by actor, both
// or neither. b must have passed Check. ErrNoSale: no such sale.
func (s *Store) Set(ctx context.Context, saleID string, b Branding, actor string) error {
	err := pgtx.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		// Through the sales row, so a sale deleted meanwhile inserts nothing
		// (and the foreign key's lock keeps it until this commits).
		res, err := tx.NamedExecContext(ctx, `INSERT INTO sale_branding (sale_id, product_image_url, logo_url, shop_url,
				accent_color, background_color, headline, description, waiting_text, sold_out_text)
			SELECT id, :product_image_url, :logo_url, :shop_url, :accent_color, :background_color,
				:headline, :description, :waiting_text, :sold_out_text FROM sales WHERE id = :sale_id
			ON CONFLICT (sale_id) DO UPDATE SET product_image_url = EXCLUDED.product_image_url,
				logo_url = EXCLUDED.logo_url, shop_url = EXCLUDED.shop_url, accent_color = EXCLUDED.accent_color,
				background_color = EXCLUDED.background_color, headline = EXCLUDED.headline,
				description = EXCLUDED.description, waiting_text = EXCLUDED.waiting_text,
				sold_out_text = EXCLUDED.sold_out_text, updated_at = now()`,
			struct {
				Branding
				SaleID string `db:"sale_id"`
			}{b, saleID})
		if err != nil {
			return fmt.Errorf("store branding of sale %s: %w", saleID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store branding of sale %s: %w", saleID, err)
		} else if n == 0 {
			return fmt.Errorf("%w: %s", ErrNoSale, saleID)
		}
		if err := auditlog.AppendJSON(ctx, tx, saleID, AuditAction, actor, b); err != nil {
			return fmt.Errorf("audit branding of sale %s: %w", saleID, err)
		}
		return nil
	})
	return err
}

// Get reads the sale's branding: all fields empty when none was set.
// ErrNoSale: no such sale.
func (s *Store) Get(ctx context.Context, saleID string) (Stored, error) {
	var st Stored
	err := s.db.GetContext(ctx, &st, `SELECT s.name AS sale_name,
			coalesce(b.product_image_url, '') AS product_image_url, coalesce(b.logo_url, '') AS logo_url,
			coalesce(b.shop_url, '') AS shop_url, coalesce(b.accent_color, '') AS accent_color,
			coalesce(b.background_color, '') AS background_color, coalesce(b.headline, '') AS headline,
			coalesce(b.description, '') AS description, coalesce(b.waiting_text, '') AS waiting_text,
			coalesce(b.sold_out_text, '') AS sold_out_text, coalesce(b.updated_at, 'epoch') AS updated_at
		FROM sales s LEFT JOIN sale_branding b ON b.sale_id = s.id WHERE s.id = $1`, saleID)
	if errors.Is(err, sql.ErrNoRows) {
		return Stored{}, fmt.Errorf("%w: %s", ErrNoSale, saleID)
	}
	if err != nil {
		return Stored{}, fmt.Errorf("read branding of sale %s: %w", saleID, err)
	}
	if st.UpdatedAt.Unix() == 0 {
		st.UpdatedAt = time.Time{}
	}
	st.UpdatedAt = st.UpdatedAt.UTC()
	return st, nil
}
