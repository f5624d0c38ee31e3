package fanout

import (
	"net/url"

	"github.com/foyerhq/foyer/waitingroom"
)

// The query parameters a shop's checkout page receives with an admitted
// shopper (docs/integration.md, "The shop's own checkout").
const (
	shopTokenParam = "foyer_token" // the reservation token, a JWT to verify with /.well-known/jwks.json
	shopSaleParam  = "foyer_sale"  // the sale's id
)

// shopCheckout is the parsed checkout page of a shop sale, or nil for a
// sale that checks out in Foyer. It is read once, when the room starts, from
// the status the room starts with: admitting reads nothing more.
func shopCheckout(st waitingroom.Status) (*url.URL, error) {
	if st.Checkout != waitingroom.CheckoutShop {
		return nil, nil
	}
	return url.Parse(st.CheckoutURL)
}

// shopCheckoutURL is the shop's page with the reservation token and the
// sale's id added to its query; the shop's own parameters stay, and one of
// the same name as Foyer's is replaced, so the shop cannot be handed two.
func shopCheckoutURL(shop *url.URL, token, saleID string) string {
	u := *shop
	q := u.Query()
	q.Set(shopTokenParam, token)
	q.Set(shopSaleParam, saleID)
	u.RawQuery = q.Encode()
	return u.String()
}
