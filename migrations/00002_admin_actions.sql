-- +goose Up
-- The audit log: every admin action on a sale, who did it and when.
CREATE TABLE admin_actions (
    id         bigserial PRIMARY KEY,
    sale_id    text REFERENCES sales (id),
    action     text NOT NULL,
    detail     jsonb NOT NULL DEFAULT '{}',
    actor      text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX admin_actions_sale_id ON admin_actions (sale_id, at);

-- +goose Down
DROP TABLE admin_actions;
