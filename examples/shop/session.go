package shop

import (
	"crypto/rand"
	"net/http"
	"strings"
	"unicode"
)

// sessionCookie names the customer's session at the shop.
const sessionCookie = "shop_session"

// customer is a signed-in customer of the shop.
type customer struct {
	ID     string   // the shop's customer id: the identity token's sub
	Groups []string // e.g. "members": the identity token's groups
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
	s.sessions[sid] = customer{ID: id, Groups: groups}
	s.mu.Unlock()
	// Lax, not Strict: the customer comes back to /checkout from Foyer's
	// page, a top-level navigation from another site, and must still be
	// signed in there.
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sid, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Shop) logout(w http.ResponseWriter, r *http.Request) {
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
