-- +goose Up
-- Who may join a sale (docs/integration.md, "Who may join"): everyone, as
-- before, or only those it invites. Postgres is the system of record of the
-- lists; Redis holds what a join checks (waitingroom/eligibility.go), so a
-- join never waits on Postgres.
ALTER TABLE sales ADD COLUMN eligibility text NOT NULL DEFAULT 'everyone'
    CHECK (eligibility IN ('everyone', 'invited'));

-- The customers a sale invites, by the shop's own customer ids, in the
-- order the shop listed them (an upload replaces them all).
CREATE TABLE sale_invitees (
    sale_id     text NOT NULL REFERENCES sales (id),
    position    integer NOT NULL,
    customer_id text NOT NULL CHECK (length(customer_id) BETWEEN 1 AND 128),
    PRIMARY KEY (sale_id, customer_id)
);
CREATE INDEX sale_invitees_order ON sale_invitees (sale_id, position);

-- The shop's groups (the identity token's groups claim) a sale admits.
CREATE TABLE sale_groups (
    sale_id text NOT NULL REFERENCES sales (id),
    name    text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    PRIMARY KEY (sale_id, name)
);

-- Single-use invite codes. Only the SHA-256 of a code is kept: a copy of
-- this table lets no one in. A join spends a code in Redis; used_by (the
-- shopper) and used_at are copied here when the admin API reads the sale's
-- invitations, and put back into a Redis that lost the sale.
CREATE TABLE sale_invite_codes (
    sale_id    text NOT NULL REFERENCES sales (id),
    digest     bytea NOT NULL CHECK (length(digest) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    used_by    text,
    used_at    timestamptz,
    PRIMARY KEY (sale_id, digest)
);

-- +goose Down
DROP TABLE sale_invite_codes;
DROP TABLE sale_groups;
DROP TABLE sale_invitees;
ALTER TABLE sales DROP COLUMN eligibility;
