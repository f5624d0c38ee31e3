// Package catalog owns the shop's products: what an operator imports
// through the admin API as CSV or JSON, upserted by SKU, and picks when
// creating a sale. It promises that an import is all or nothing (one bad
// row refuses it, naming the row, and changes nothing, the audit log
// included) and that every product it keeps is within its bounds. A sale
// copies a product's SKU, name and list price when it is created; nothing
// here changes a sale.
package catalog

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/currency"
)

// Errors a caller branches on; each is mapped once to an HTTP status
// (server/errors.go).
var (
	// ErrInvalid refuses an import, or a product, out of bounds; nothing
	// was changed.
	ErrInvalid = errors.New("catalog import invalid")
	// ErrNotFound is a SKU that names no product.
	ErrNotFound = errors.New("product unknown")
	// ErrBadQuery is a limit or cursor of the list that cannot be read.
	ErrBadQuery = errors.New("bad request")
)

// Bounds of a product and of an import (docs/admin-api.md, "The catalog"). The SKU, name and price bounds are a sale plan's, so
// any product can become a sale. Lengths are in characters.
const (
	MaxRows           = 10_000 // products in one import
	maxSKULen         = 64
	maxNameLen        = 200
	maxListPriceCents = 1_000_000_000
	maxImageURLLen    = 500
	maxDescriptionLen = 2_000
)

// Product is one item of the shop's catalog.
type Product struct {
	ID             int64     `db:"id" json:"-"` // orders the list's pages
	SKU            string    `db:"sku" json:"sku"`
	Name           string    `db:"name" json:"name"`
	ListPriceCents int64     `db:"list_price_cents" json:"list_price_cents"`
	Currency       string    `db:"currency" json:"currency"`
	ImageURL       string    `db:"image_url" json:"image_url,omitempty"`
	Description    string    `db:"description" json:"description,omitempty"`
	UpdatedAt      time.Time `db:"updated_at" json:"updated_at"`
}

// problems lists what is wrong with p, each naming its field.
func (p Product) problems() []string {
	var out []string
	add := func(field, why string) {
		if why != "" {
			out = append(out, field+" "+why)
		}
	}
	add("sku", requiredText(p.SKU, maxSKULen))
	add("name", requiredText(p.Name, maxNameLen))
	if p.ListPriceCents < 0 || p.ListPriceCents > maxListPriceCents {
		out = append(out, fmt.Sprintf("list_price_cents must be between 0 and %d", maxListPriceCents))
	}
	if !validCurrency(p.Currency) {
		out = append(out, "currency must be an ISO 4217 code in capitals, such as EUR")
	}
	add("image_url", imageURLProblem(p.ImageURL))
	add("description", descriptionProblem(p.Description))
	return out
}

// requiredText says what is wrong with a one-line text that must be there.
func requiredText(s string, max int) string {
	if strings.TrimSpace(s) == "" {
		return "is required"
	}
	return textProblem(s, max, false)
}

// textProblem says what is wrong with s, or "": not UTF-8, too long, or
// holding a control character (newlines only where allowed: a description
// is shown as paragraphs, every other text on one line).
func textProblem(s string, max int, newlines bool) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Sprintf("must have at most %d characters, not %d", max, n)
	}
	bad := func(r rune) bool { return unicode.IsControl(r) && !(newlines && r == '\n') }
	if strings.IndexFunc(s, bad) >= 0 {
		if newlines {
			return "must not contain control characters but newlines"
		}
		return "must not contain control characters (tab and newline included)"
	}
	return ""
}

func descriptionProblem(s string) string { return textProblem(s, maxDescriptionLen, true) }

// imageURLProblem says what is wrong with an image's address: it is shown
// on the shoppers' page, which loads only https, so nothing else is taken.
func imageURLProblem(s string) string {
	if s == "" {
		return ""
	}
	if why := textProblem(s, maxImageURLLen, false); why != "" {
		return why
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Opaque != "" {
		return "must be an absolute https:// URL"
	}
	if u.User != nil {
		return "must not hold a user or password"
	}
	return ""
}

// validCurrency reports whether code is an ISO 4217 code in capitals, as a
// sale plan's currency must be; XXX ("no currency") is not one.
func validCurrency(code string) bool {
	if len(code) != 3 || strings.ToUpper(code) != code {
		return false
	}
	u, err := currency.ParseISO(code)
	return err == nil && u != (currency.Unit{})
}
