-- +goose Up
-- Where an admitted shopper pays (docs/integration.md, "The shop's own
-- checkout"): foyer (Foyer's own checkout, the default) or shop, at the
-- shop's checkout_url, which only a shop sale has.
ALTER TABLE sales ADD COLUMN checkout text NOT NULL DEFAULT 'foyer'
    CHECK (checkout IN ('foyer', 'shop'));
ALTER TABLE sales ADD COLUMN checkout_url text NOT NULL DEFAULT ''
    CHECK ((checkout = 'shop') = (checkout_url <> '') AND char_length(checkout_url) <= 500);

-- +goose Down
ALTER TABLE sales DROP COLUMN checkout_url;
ALTER TABLE sales DROP COLUMN checkout;
