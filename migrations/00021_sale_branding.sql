-- +goose Up
-- A sale's branding (internal/branding): what the shopper page shows of the
-- shop around the queue. One row per sale that has any; none is Foyer's own
-- look. The bounds repeat internal/branding's, so a row written past it is
-- refused here too. A deleted sale takes its branding with it; the audit
-- log keeps what it was.
CREATE TABLE sale_branding (
    sale_id           text PRIMARY KEY REFERENCES sales (id) ON DELETE CASCADE,
    product_image_url text NOT NULL DEFAULT '' CHECK (length(product_image_url) <= 2048),
    logo_url          text NOT NULL DEFAULT '' CHECK (length(logo_url) <= 2048),
    shop_url          text NOT NULL DEFAULT '' CHECK (length(shop_url) <= 2048),
    accent_color      text NOT NULL DEFAULT '' CHECK (accent_color ~ '^(#[0-9a-f]{6})?$'),
    background_color  text NOT NULL DEFAULT '' CHECK (background_color ~ '^(#[0-9a-f]{6})?$'),
    headline          text NOT NULL DEFAULT '' CHECK (char_length(headline) <= 120),
    description       text NOT NULL DEFAULT '' CHECK (char_length(description) <= 500),
    waiting_text      text NOT NULL DEFAULT '' CHECK (char_length(waiting_text) <= 200),
    sold_out_text     text NOT NULL DEFAULT '' CHECK (char_length(sold_out_text) <= 200),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE sale_branding;
