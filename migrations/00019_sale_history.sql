-- +goose Up
-- A sale's history, for the dashboard's charts and the post-sale report
-- (docs/reports.md). One narrow row per sale per second, written in batches
-- by the one gateway that holds the history sampler's lease: the sale's
-- counters as they stood at that second (cumulative; the charts take the
-- differences for rates). 125 bytes a row with its index, measured: 10.9 MB
-- for a day-long sale (86,400 rows). Kept FOYER_SERIES_RETENTION after the
-- sale's end, then pruned by the sampler; deleted with the sale.
CREATE TABLE sale_series (
    sale_id   text NOT NULL REFERENCES sales (id) ON DELETE CASCADE,
    second    bigint NOT NULL,  -- unix seconds
    joins     integer NOT NULL, -- tickets given out (the prequeue's once drawn)
    admitted  integer NOT NULL, -- shoppers let out with a hold
    checkouts integer NOT NULL, -- units sold in Redis (confirmed checkouts)
    orders    integer NOT NULL, -- units of orders written to Postgres (sales.sold)
    waiting   integer NOT NULL, -- in the queue and the prequeue
    available integer NOT NULL, -- units neither held nor sold
    held      integer NOT NULL, -- units held by admitted shoppers
    PRIMARY KEY (sale_id, second)
);

-- What the sale's report needs of its Redis state (its state, the wait
-- histogram by arrival minute, the holds released, its flags summed up and
-- its draw), copied by the sampler once a minute while the sale runs and
-- once when it is over, so the report outlives Redis's copy; and whether its public
-- fairness report is out (published by the operator, audited).
CREATE TABLE sale_reports (
    sale_id               text PRIMARY KEY REFERENCES sales (id) ON DELETE CASCADE,
    history               jsonb,
    copied_at             timestamptz,
    fairness_published_at timestamptz
);

-- +goose Down
DROP TABLE sale_reports;
DROP TABLE sale_series;
