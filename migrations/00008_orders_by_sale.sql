-- +goose Up
-- The Orders API pages through a sale's orders by id (keyset pagination,
-- internal/orders): this index serves "WHERE sale_id = $1 AND id > $2
-- ORDER BY id LIMIT n" without a sort, and every query orders_sale_id served,
-- of which it is a prefix, so that one goes.
CREATE INDEX orders_sale_id_id ON orders (sale_id, id);
DROP INDEX orders_sale_id;

-- +goose Down
CREATE INDEX orders_sale_id ON orders (sale_id);
DROP INDEX orders_sale_id_id;
