-- +goose Up
-- An operator may delete a sale that has not opened (waitingroom/saledelete.go).
-- Its audit rows stay, naming it by id: the log is history, and a deleted
-- sale is part of it. So the log no longer refers to the sales table.
ALTER TABLE admin_actions DROP CONSTRAINT admin_actions_sale_id_fkey;

-- +goose Down
ALTER TABLE admin_actions ADD CONSTRAINT admin_actions_sale_id_fkey
    FOREIGN KEY (sale_id) REFERENCES sales (id) NOT VALID;
