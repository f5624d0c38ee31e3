package orderstream

// Order is an order as the order workers just wrote or settled it, handed
// to whoever records what became of it in the same transaction (the
// workers' OrderEvents hook), so that nothing reads the rows back.
type Order struct {
	ID            int64  `db:"id"`
	SaleID        string `db:"sale_id"`
	ReservationID string `db:"reservation_id"`
	TransactionID string `db:"transaction_id"`
	ShopperID     string `db:"shopper_id"`
	// CustomerID is the shop's customer id; empty for an anonymous shopper.
	CustomerID string `db:"customer_id"`
	Quantity   int    `db:"quantity"`
	PriceCents int64  `db:"price_cents"` // per unit
	Currency   string `db:"currency"`    // the sale's
	Status     string `db:"status"`
	// ShopOrderRef is the shop's order reference of a redeemed
	// reservation; empty otherwise.
	ShopOrderRef string `db:"shop_order_ref"`
	// SKU is the product of the order: an event's product or the sale's own
	// sku. A confirmation of a single-product sale carries none; the row
	// written from it, and the events recorded with it, have the sale's.
	SKU string `db:"sku"`
	// ProductName is the name of that product (an event's product's, or a
	// single-product sale's name), read back with the row for its events.
	ProductName string `db:"product_name"`
}
