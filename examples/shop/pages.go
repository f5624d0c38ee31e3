package shop

import (
	"html/template"
	"net/http"
	"slices"
	"strings"
)

// The shop's pages: plain HTML, one template each, on a shared layout.
var (
	layout = `<!doctype html><html><head><meta charset="utf-8"><title>Example shop</title></head>
<body><p><a href="/">Example shop</a> · <a href="/orders">Orders</a></p>{{template "body" .}}</body></html>`
	homeTmpl = page(`{{define "body"}}{{if .Customer}}
<p>Signed in as <b>{{.Customer}}</b>.</p>
<form method="get" action="/drop"><label>Sale id <input name="sale" required></label> <button>Join the drop</button></form>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{{.CSRF}}"><button>Sign out</button></form>
{{else}}
<form method="post" action="/login"><label>Customer id <input name="customer_id" required maxlength="128"></label>
<label>Groups <input name="groups" placeholder="members"></label> <button>Sign in</button></form>
{{end}}{{end}}`)
	// dropTmpl joins Foyer's queue from the shop's own page: a fresh
	// identity token from the shop, then Foyer's WebSocket with it as a
	// subprotocol (out of the URL), session=new&join=1. Foyer's
	// FOYER_ALLOWED_ORIGINS must list the shop. On admitted, the browser
	// goes to checkout_url: this shop's /checkout, with the token.
	dropTmpl = page(`{{define "body"}}<h1>Drop {{.Sale}}</h1><p id="status">Joining…</p>
<script>
const sale = {{.Sale}}, wsBase = {{.WSURL}};
const status = document.getElementById("status");
async function join() {
  const res = await fetch("/identity-token", { credentials: "same-origin" });
  if (!res.ok) { status.textContent = "Sign in first."; return; }
  const { token } = await res.json();
  const ws = new WebSocket(wsBase + "/v1/sales/" + encodeURIComponent(sale) + "/ws?session=new&join=1",
    ["foyer.v1", "identity." + token]);
  let done = false;
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type === "position") status.textContent = "You are number " + m.position + " in the queue.";
    if (m.type === "admitted") { done = true; location.href = m.checkout_url; }
    if (m.type === "sold_out") { done = true; status.textContent = "Sold out."; }
    if (m.type === "error") status.textContent = "Foyer: " + m.code;
  };
  // A new session for the same customer is the same shopper: the place is kept.
  ws.onclose = () => { if (!done) setTimeout(join, 1000 + Math.random() * 2000); };
}
join();
</script>{{end}}`)
	// checkoutTmpl asks a customer who is not signed in to sign in first,
	// and brings them back here (next); the forms carry the session's CSRF
	// token.
	checkoutTmpl = page(`{{define "body"}}<h1>Checkout</h1>
<p>One unit of sale <b>{{.Res.SaleID}}</b> is held for you{{if .Customer}}, {{.Customer}}{{end}}, for {{.Left}} more.</p>
{{if .Customer}}<form method="post" action="/checkout/pay"><input type="hidden" name="foyer_token" value="{{.Token}}">
<input type="hidden" name="foyer_sale" value="{{.Res.SaleID}}"><input type="hidden" name="csrf" value="{{.CSRF}}"><button>Pay</button></form>
<form method="post" action="/checkout/release"><input type="hidden" name="foyer_token" value="{{.Token}}">
<input type="hidden" name="foyer_sale" value="{{.Res.SaleID}}"><input type="hidden" name="csrf" value="{{.CSRF}}"><button>Release the unit</button></form>
{{else}}<p>Sign in to pay.</p>
<form method="post" action="/login"><input type="hidden" name="next" value="{{.Next}}">
<label>Customer id <input name="customer_id" required maxlength="128"></label> <button>Sign in</button></form>{{end}}{{end}}`)
	paidTmpl     = page(`{{define "body"}}<h1>Thank you</h1><p>Order <b id="order-ref">{{.Ref}}</b> is paid.</p>{{end}}`)
	releasedTmpl = page(`{{define "body"}}<h1>Released</h1><p>The unit went back to the queue.</p>{{end}}`)
	problemTmpl  = page(`{{define "body"}}<h1>Sorry</h1><p id="problem">{{.Message}}</p><p><small>{{.Detail}}</small></p>{{end}}`)
	ordersTmpl   = page(`{{define "body"}}<h1>Orders</h1><table><tr><th>ref</th><th>reservation</th><th>sale</th><th>customer</th><th>status</th><th>events</th></tr>
{{range .Orders}}<tr><td>{{.Ref}}</td><td>{{.ReservationID}}</td><td>{{.SaleID}}</td><td>{{.CustomerID}}</td><td>{{.Status}}</td><td>{{range .Events}}{{.}} {{end}}</td></tr>{{end}}</table>
<h2>Webhooks received</h2><ul>{{range .Events}}<li>{{.ReceivedAt.Format "15:04:05"}} {{.Type}} {{.ID}}</li>{{end}}</ul>{{end}}`)
)

func page(body string) *template.Template {
	return template.Must(template.Must(template.New("layout").Parse(layout)).Parse(body))
}

func (s *Shop) render(w http.ResponseWriter, status int, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store") // pages carry tokens
	// The checkout's URL holds the reservation token: send it to nobody.
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = t.Execute(w, data)
}

func (s *Shop) home(w http.ResponseWriter, r *http.Request) {
	cust, _ := s.signedIn(r)
	s.render(w, http.StatusOK, homeTmpl, map[string]any{"Customer": cust.ID, "CSRF": cust.CSRF})
}

func (s *Shop) drop(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.signedIn(r); !ok {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	sale := r.URL.Query().Get("sale")
	if !slices.Contains(s.cfg.SaleIDs, sale) {
		http.Error(w, "this shop sells no such sale", http.StatusNotFound)
		return
	}
	ws := "ws" + strings.TrimPrefix(s.cfg.FoyerURL, "http") // http→ws, https→wss
	s.render(w, http.StatusOK, dropTmpl, map[string]any{"Sale": sale, "WSURL": ws})
}

func (s *Shop) ordersPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, ordersTmpl, map[string]any{"Orders": s.Orders(), "Events": s.Events()})
}
