package shop_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The shop's guards: which sales it takes tokens of, whose forms it acts
// on, and whose reservation it ships.

func TestTheShopTakesNoReservationOfASaleItDoesNotSell(t *testing.T) {
	f := newFakeFoyer(t)
	_, srv, browser := startShop(t, f)
	csrf := signIn(t, browser, srv, "cust-42")
	// A genuine token of another of Foyer's sales, with a link that names
	// that sale: the customer chose foyer_sale, so it proves nothing.
	other := f.token(t, "s_other", "r_1", time.Now().Add(5*time.Minute))
	form := checkoutForm(other, "s_other", csrf)
	if status, body := get(t, browser, srv.URL+"/checkout?"+form.Encode()); status != http.StatusForbidden ||
		!strings.Contains(body, "not for a sale of this shop") {
		t.Errorf("the checkout of a sale the shop does not sell: %d %s", status, body)
	}
	for _, action := range []string{"pay", "release"} {
		if status, _ := postForm(t, browser, srv.URL+"/checkout/"+action, form); status != http.StatusForbidden {
			t.Errorf("%s of a sale the shop does not sell: %d, want 403", action, status)
		}
	}
	if status, _ := get(t, browser, srv.URL+"/drop?sale=s_other"); status != http.StatusNotFound {
		t.Errorf("the drop page of a sale the shop does not sell: %d, want 404", status)
	}
	if calls := f.Calls(); len(calls) != 0 {
		t.Errorf("a token of another sale called Foyer: %+v", calls)
	}
}

func TestPayReleaseAndSignOutRefuseAFormWithoutTheSessionsCSRFToken(t *testing.T) {
	f := newFakeFoyer(t)
	s, srv, browser := startShop(t, f)
	csrf := signIn(t, browser, srv, "cust-42")
	jar, _ := cookiejar.New(nil)
	otherBrowser := &http.Client{Jar: jar}
	otherCSRF := signIn(t, otherBrowser, srv, "cust-43")
	token := f.token(t, testSale, "r_1", time.Now().Add(5*time.Minute))
	for name, c := range map[string]struct {
		browser *http.Client
		csrf    string
		want    int
	}{
		"no CSRF token":                  {browser, "", http.StatusForbidden},
		"a made-up CSRF token":           {browser, "AAAAAAAAAAAAAAAAAAAAAAAAAA", http.StatusForbidden},
		"another session's CSRF token":   {browser, otherCSRF, http.StatusForbidden},
		"no session, the token of one":   {http.DefaultClient, csrf, http.StatusUnauthorized},
		"a session that was never made":  {http.DefaultClient, "", http.StatusUnauthorized},
		"the CSRF token of another form": {browser, csrf + "x", http.StatusForbidden},
	} {
		for _, action := range []string{"pay", "release"} {
			if status, _ := postForm(t, c.browser, srv.URL+"/checkout/"+action, checkoutForm(token, testSale, c.csrf)); status != c.want {
				t.Errorf("%s with %s: %d, want %d", action, name, status, c.want)
			}
		}
		if status, _ := postForm(t, c.browser, srv.URL+"/logout", url.Values{"csrf": {c.csrf}}); status != c.want {
			t.Errorf("sign out with %s: %d, want %d", name, status, c.want)
		}
	}
	if calls := f.Calls(); len(calls) != 0 || len(s.Orders()) != 0 {
		t.Errorf("forms without the session's CSRF token called Foyer %+v or made orders %+v", calls, s.Orders())
	}
	if status, _ := get(t, browser, srv.URL+"/identity-token"); status != http.StatusOK {
		t.Errorf("a sign-out without the CSRF token signed the customer out: %d", status)
	}
	if status, _ := postForm(t, browser, srv.URL+"/checkout/pay", checkoutForm(token, testSale, csrf)); status != http.StatusOK {
		t.Errorf("pay with the session's CSRF token: %d", status)
	}
}

func TestAnOrderFoyerSaysIsAnotherCustomersIsSetAsideNotShipped(t *testing.T) {
	paid := func(res, customer string) string {
		return `{"id":"evt_` + res + `","type":"order.paid","created_at":"2026-01-01T00:00:00Z","sale_id":"s_drop",` +
			`"data":{"reservation_id":"` + res + `","status":"paid","customer_id":"` + customer + `"}}`
	}
	for _, early := range []bool{true, false} {
		f := newFakeFoyer(t)
		s, srv, browser := startShop(t, f)
		if early { // order.paid comes before the redeem's answer
			f.mu.Lock()
			f.beforeRedeemed = func(map[string]string) { deliver(t, srv, testWebhookSecret, time.Now(), paid("r_1", "cust-99")) }
			f.mu.Unlock()
		}
		csrf := signIn(t, browser, srv, "cust-42")
		token := f.token(t, testSale, "r_1", time.Now().Add(5*time.Minute))
		if status, body := postForm(t, browser, srv.URL+"/checkout/pay", checkoutForm(token, testSale, csrf)); status != http.StatusOK {
			t.Fatalf("pay: %d %s", status, body)
		}
		if !early {
			deliver(t, srv, testWebhookSecret, time.Now(), paid("r_1", "cust-99"))
		}
		if orders := s.Orders(); len(orders) != 1 || orders[0].Status != "customer_mismatch" || orders[0].CustomerID != "cust-42" {
			t.Errorf("(order.paid before the answer: %v) orders %+v, want cust-42's set aside as customer_mismatch", early, orders)
		}
	}
}

func TestASecondCustomerCannotPayForAReservationAnotherHasPaid(t *testing.T) {
	f := newFakeFoyer(t)
	s, srv, browser := startShop(t, f)
	csrf := signIn(t, browser, srv, "cust-42")
	token := f.token(t, testSale, "r_1", time.Now().Add(5*time.Minute))
	if status, body := postForm(t, browser, srv.URL+"/checkout/pay", checkoutForm(token, testSale, csrf)); status != http.StatusOK {
		t.Fatalf("pay: %d %s", status, body)
	}
	jar, _ := cookiejar.New(nil)
	otherBrowser := &http.Client{Jar: jar}
	otherCSRF := signIn(t, otherBrowser, srv, "cust-43")
	if status, body := postForm(t, otherBrowser, srv.URL+"/checkout/pay", checkoutForm(token, testSale, otherCSRF)); status != http.StatusForbidden ||
		strings.Contains(body, "order-ref") {
		t.Errorf("another customer pays the same reservation: %d %s, want 403", status, body)
	}
	if calls := f.Calls(); len(calls) != 1 {
		t.Errorf("%d redeems, want the first customer's only", len(calls))
	}
	if orders := s.Orders(); len(orders) != 1 || orders[0].CustomerID != "cust-42" || orders[0].Status != "paid" {
		t.Errorf("orders %+v, want cust-42's, paid", orders)
	}
}

// Foyer names the customer whose session was admitted (cid): a checkout
// link passed on to another customer is refused before any money is taken,
// and Foyer is asked nothing.
func TestAReservationOfAnotherCustomerIsRefusedBeforeTheRedeem(t *testing.T) {
	f := newFakeFoyer(t)
	s, srv, browser := startShop(t, f)
	csrf := signIn(t, browser, srv, "cust-43")
	token := f.customerToken(t, testSale, "r_1", "cust-42", time.Now().Add(5*time.Minute))
	if status, body := postForm(t, browser, srv.URL+"/checkout/pay", checkoutForm(token, testSale, csrf)); status != http.StatusForbidden {
		t.Errorf("cust-43 pays cust-42's reservation: %d %s, want 403", status, body)
	}
	if calls := f.Calls(); len(calls) != 0 {
		t.Errorf("%d calls to Foyer, want none", len(calls))
	}
	if orders := s.Orders(); len(orders) != 0 {
		t.Errorf("orders %+v, want none", orders)
	}
	// A customer's shopper whose token names no customer: nothing to compare.
	nameless := f.sign(t, jwt.MapClaims{"iss": "foyer", "aud": testSale, "sub": "c_shopper", "jti": "r_2",
		"iat": time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix()})
	if status, body := postForm(t, browser, srv.URL+"/checkout/pay", checkoutForm(nameless, testSale, csrf)); status != http.StatusForbidden {
		t.Errorf("a c_ shopper's token without cid: %d %s, want 403", status, body)
	}
	if calls := f.Calls(); len(calls) != 0 {
		t.Errorf("%d calls to Foyer, want none", len(calls))
	}
	ownCSRF := signIn(t, browser, srv, "cust-42")
	if status, body := postForm(t, browser, srv.URL+"/checkout/pay", checkoutForm(token, testSale, ownCSRF)); status != http.StatusOK {
		t.Errorf("cust-42 pays its own reservation: %d %s, want 200", status, body)
	}
}

func TestACustomerWhoIsNotSignedInIsAskedToAndSentBackToTheCheckout(t *testing.T) {
	f := newFakeFoyer(t)
	_, srv, _ := startShop(t, f)
	jar, _ := cookiejar.New(nil)
	var redirects []string
	browser := &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		redirects = append(redirects, r.URL.RequestURI())
		return nil
	}}
	token := f.token(t, testSale, "r_1", time.Now().Add(5*time.Minute))
	checkout := "/checkout?" + url.Values{"foyer_token": {token}, "foyer_sale": {testSale}}.Encode()
	status, body := get(t, browser, srv.URL+checkout)
	if status != http.StatusOK || strings.Contains(body, "/checkout/pay") || !strings.Contains(body, `action="/login"`) {
		t.Fatalf("the checkout of a customer not signed in: %d %s, want a sign-in form and no pay", status, body)
	}
	status, body = postForm(t, browser, srv.URL+"/login", url.Values{"customer_id": {"cust-42"}, "next": {checkout}})
	if status != http.StatusOK || !strings.Contains(body, "/checkout/pay") || len(redirects) != 1 || redirects[0] != checkout {
		t.Errorf("signed in from the checkout, sent to %v: %d %s", redirects, status, body)
	}
	for _, next := range []string{"//evil.example/", "/\\evil.example", "https://evil.example/", "javascript:alert(1)"} {
		redirects = nil
		postForm(t, browser, srv.URL+"/login", url.Values{"customer_id": {"cust-42"}, "next": {next}})
		if len(redirects) != 1 || redirects[0] != "/" {
			t.Errorf("signed in with next %q: sent to %v, want the home page", next, redirects)
		}
	}
}
