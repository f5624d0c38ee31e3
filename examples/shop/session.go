package shop

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"strings"
	"unicode"
)

// sessionCookie names the customer's session at the shop.
const sessionCookie = "shop_session"

// csrfField is the form field that carries the session's CSRF token: every
// form that changes something for the signed-in customer (pay, release,
// sign out) has it, and the handler compares it with the session's. The
// cookie alone is not enough: it is SameSite=Lax (see login), which stops
// it on another site's POST in today's browsers, but not on one from a
// sibling subdomain of the shop's site, nor in older browsers; and Strict
// would sign the customer out on the way back from Foyer's page.
const csrfField = "csrf"

// customer is a signed-in customer of the shop.
type customer struct {
	ID     string   // the shop's customer id: the identity token's sub
	Groups []string // e.g. "members": the identity token's groups
	CSRF   string   // the session's CSRF token, in every form of its pages
}

// login signs a customer in with nothing but an id: the example has no
// passwords. A real shop signs its customers in as it always does.
func (s *Shop) login(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSpace(r.PostFormValue("customer_id"))
	if !printable(id, 128) {
		http.Error(w, "a customer id is 1 to 128 printable characters", http.StatusBadRequest)
		return
	}
	var groups []string
	for g := range strings.SplitSeq(r.PostFormValue("groups"), ",") {
		if g = strings.TrimSpace(g); printable(g, 64) && len(groups) < 32 {
			groups = append(groups, g)
		}
	}
	sid := rand.Text()
	s.mu.Lock()
	s.sessions[sid] = customer{ID: id, Groups: groups, CSRF: rand.Text()}
	s.mu.Unlock()
	// Lax, not Strict: the customer comes back to /checkout from Foyer's
	// page, a top-level navigation from another site, and must still be
	// signed in there.
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sid, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	http.Redirect(w, r, localPath(r.PostFormValue("next")), http.StatusSeeOther)
}

// localPath is next if it is a path of this shop, else "/": a sign-in
// form sends the customer back to the checkout they came from, and nowhere
// else (never //evil.example, which a browser takes for another host).
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		!printable(next, 4096) {
		return "/"
	}
	return next
}

func (s *Shop) logout(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.signedInForm(w, r); !ok {
		return
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.mu.Lock()
		delete(s.sessions, c.Value)
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// signedIn is the request's customer, if signed in.
func (s *Shop) signedIn(r *http.Request) (customer, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return customer{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cust, ok := s.sessions[c.Value]
	return cust, ok
}

// signedInForm is the customer who sent a form that acts for them: signed
// in, and with their session's CSRF token in the form. Otherwise it answers
// the request itself (401 or 403) and reports false.
func (s *Shop) signedInForm(w http.ResponseWriter, r *http.Request) (customer, bool) {
	cust, ok := s.signedIn(r)
	if !ok {
		s.render(w, http.StatusUnauthorized, problemTmpl, map[string]any{
			"Message": "Sign in first, then open the checkout link again."})
		return customer{}, false
	}
	if got := r.PostFormValue(csrfField); subtle.ConstantTimeCompare([]byte(got), []byte(cust.CSRF)) != 1 {
		s.render(w, http.StatusForbidden, problemTmpl, map[string]any{
			"Message": "This form did not come from this shop's page; open the checkout again."})
		return customer{}, false
	}
	return cust, true
}

// printable reports whether v is 1 to maxLen printable ASCII characters,
// as Foyer asks of ids, references and keys.
func printable(v string, maxLen int) bool {
	if v == "" || len(v) > maxLen {
		return false
	}
	for _, r := range v {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
