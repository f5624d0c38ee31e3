package shopperclient

import (
	"encoding/json"
	"testing"
)

// A Message reads an event's products where the protocol puts them: the
// welcome's sale.products, the plan push's sale.products and the stock
// push's products (docs/protocol.md).
func TestAMessageReadsAnEventsProductsWhereverTheyCome(t *testing.T) {
	for name, c := range map[string]struct {
		frame string
		read  func(Message) []Product
		want  Product
	}{
		"welcome": {`{"type":"welcome","sale":{"id":"s_1","state":"scheduled","products":[{"sku":"TEE","name":"Tee",` +
			`"price_cents":1500,"list_price_cents":2000,"stock":3,"left":2,"per_shopper_limit":1,` +
			`"image_url":"https://img.example/t.png","description":"Soft."},{"sku":"CAP","name":"Cap","price_cents":900,` +
			`"stock":1,"left":1,"per_shopper_limit":1}]}}`,
			func(m Message) []Product { return m.Sale.Products },
			Product{SKU: "TEE", Name: "Tee", PriceCents: 1500, ListPriceCents: 2000, Stock: 3, Left: 2, PerShopperLimit: 1,
				ImageURL: "https://img.example/t.png", Description: "Soft."}},
		"plan push": {`{"type":"state","state":"scheduled","message":"","sale":{"name":"Drop","price_cents":900,` +
			`"currency":"EUR","starts_at":"2026-11-27T09:00:00Z","ends_at":"2026-11-27T10:00:00Z",` +
			`"prequeue_at":"2026-11-27T08:45:00Z","per_shopper_limit":1,"products":[{"sku":"TEE","name":"Red tee",` +
			`"price_cents":1700,"stock":5,"left":5,"per_shopper_limit":1},{"sku":"CAP","name":"Cap","price_cents":900,` +
			`"stock":1,"left":1,"per_shopper_limit":1}]}}`,
			func(m Message) []Product { return m.Sale.Products },
			Product{SKU: "TEE", Name: "Red tee", PriceCents: 1700, Stock: 5, Left: 5, PerShopperLimit: 1}},
		"stock push": {`{"type":"stock","total":10,"left":4,"held":2,"sold":4,"products":[{"sku":"TEE","left":0},{"sku":"CAP","left":6}]}`,
			func(m Message) []Product { return m.Products },
			Product{SKU: "TEE"}},
	} {
		var m Message
		if err := json.Unmarshal([]byte(c.frame), &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := c.read(m)
		if len(got) != 2 || got[0] != c.want || got[1].SKU != "CAP" {
			t.Errorf("%s: products %+v, want %+v first and CAP second", name, got, c.want)
		}
	}
}
