// Package branding owns a sale's branding: the shop's logo, the product's
// image, the page's colours, the link back to the shop and the texts the
// shopper page shows around the queue (docs/branding.md). It checks a
// branding before anything is stored (Check), keeps it in Postgres with its
// audit row (Store), and promises that what it stores is safe to put on the
// page: https URLs on hosts the page's Content-Security-Policy lets in,
// colours that keep the page's text readable, texts without control
// characters.
package branding

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalid is a branding refused by Check: nothing was stored.
var ErrInvalid = errors.New("invalid branding")

// ErrNoSale is a branding for a sale that does not exist.
var ErrNoSale = errors.New("sale not found")

// Branding is what an operator sets for a sale's shopper page. Every field
// may be empty: an empty one keeps Foyer's own (no image, the page's
// colours, FOYER_SHOP_URL, no text).
type Branding struct {
	// ProductImageURL and LogoURL are https images on a host of
	// FOYER_IMAGE_HOSTS; the page shows them with the sale's name as alt text.
	ProductImageURL string `json:"product_image_url" db:"product_image_url"`
	LogoURL         string `json:"logo_url" db:"logo_url"`
	// ShopURL is the shop's page for this sale, an https URL; it takes the
	// place of FOYER_SHOP_URL on the sale's page.
	ShopURL string `json:"shop_url" db:"shop_url"`
	// AccentColor (buttons, links, the progress bar) and BackgroundColor
	// (the page behind its cards) are #rrggbb, lower case once checked.
	AccentColor     string `json:"accent_color" db:"accent_color"`
	BackgroundColor string `json:"background_color" db:"background_color"`
	// Headline and Description are shown under the sale's name;
	// WaitingText in the queue; SoldOutText once the sale is sold out.
	Headline    string `json:"headline" db:"headline"`
	Description string `json:"description" db:"description"`
	WaitingText string `json:"waiting_text" db:"waiting_text"`
	SoldOutText string `json:"sold_out_text" db:"sold_out_text"`
}

// Bounds of a branding, in characters; migrations/00021_sale_branding.sql
// holds the same.
const (
	MaxURL         = 2048
	MaxHeadline    = 120
	MaxDescription = 500
	MaxStatusText  = 200 // WaitingText and SoldOutText
)

// Check refuses a branding the page must not show, saying why in words an
// operator can act on, and returns it normalised (colours in lower case,
// texts trimmed). imageHosts are the hosts the page's CSP lets images come
// from (FOYER_IMAGE_HOSTS); an image on another host would not load.
func Check(b Branding, imageHosts []string) (Branding, error) {
	b.AccentColor = strings.ToLower(strings.TrimSpace(b.AccentColor))
	b.BackgroundColor = strings.ToLower(strings.TrimSpace(b.BackgroundColor))
	for _, f := range []*string{&b.Headline, &b.Description, &b.WaitingText, &b.SoldOutText} {
		*f = strings.TrimSpace(*f)
	}
	var why []string
	for _, img := range []struct{ field, url string }{{"product_image_url", b.ProductImageURL}, {"logo_url", b.LogoURL}} {
		if w := ImageProblem(img.url, imageHosts); w != "" {
			why = append(why, img.field+" "+w)
		}
	}
	if w := urlProblem(b.ShopURL); w != "" {
		why = append(why, "shop_url "+w)
	}
	for _, t := range []struct {
		field, text string
		max         int
	}{
		{"headline", b.Headline, MaxHeadline}, {"description", b.Description, MaxDescription},
		{"waiting_text", b.WaitingText, MaxStatusText}, {"sold_out_text", b.SoldOutText, MaxStatusText},
	} {
		if w := textProblem(t.text, t.max); w != "" {
			why = append(why, t.field+" "+w)
		}
	}
	why = append(why, colourProblems(b.AccentColor, b.BackgroundColor)...)
	if len(why) > 0 {
		return Branding{}, fmt.Errorf("%w: %s", ErrInvalid, strings.Join(why, "; "))
	}
	return b, nil
}

// urlProblem says what keeps u from being a link or image the page can
// use: only https (no http:, which a https page would block or warn of, no
// javascript: or data:), with a host, no user name or password, nothing an
// attribute could not hold as it is. "" is none set, which is fine.
func urlProblem(u string) string {
	if u == "" {
		return ""
	}
	if len(u) > MaxURL {
		return fmt.Sprintf("is longer than %d characters", MaxURL)
	}
	p, err := url.Parse(u)
	switch {
	case err != nil || strings.IndexFunc(u, func(r rune) bool { return r <= ' ' || r == 0x7f || strings.ContainsRune(`"'<>\`, r) }) >= 0:
		return fmt.Sprintf("%q is not a URL the page can use: write it without spaces, quotes or angle brackets", clip(u))
	case p.Scheme != "https":
		return fmt.Sprintf("must be an https URL such as https://shop.example/, not %q", clip(u))
	case p.Host == "" || p.Hostname() == "":
		return fmt.Sprintf("must name a host, not %q", clip(u))
	case p.User != nil:
		return "must not carry a user name or password"
	}
	return ""
}

// ImageProblem says what keeps an image's URL from the page: urlProblem's
// reasons, or a host the page does not load images from (hosts,
// FOYER_IMAGE_HOSTS). "" for an image the page shows, or for no URL. The
// branding's images and an event's products' are held to it alike.
func ImageProblem(u string, hosts []string) string {
	if w := urlProblem(u); w != "" || u == "" {
		return w
	}
	p, _ := url.Parse(u) // urlProblem parsed it
	host := strings.ToLower(p.Host)
	for _, h := range hosts {
		if host == h {
			return ""
		}
	}
	if len(hosts) == 0 {
		return fmt.Sprintf("is on %s, but this deployment loads images from no other host: list it in FOYER_IMAGE_HOSTS", host)
	}
	return fmt.Sprintf("is on %s, which is not in FOYER_IMAGE_HOSTS (%s): the page would not load it", host, strings.Join(hosts, ", "))
}

// textProblem says what keeps a text from the page: its length past max
// characters, bytes that are not UTF-8, and control characters (a newline
// included: the page lays its texts out itself).
func textProblem(s string, max int) string {
	switch {
	case !utf8.ValidString(s):
		return "is not UTF-8"
	case utf8.RuneCountInString(s) > max:
		return fmt.Sprintf("is %d characters, longer than %d", utf8.RuneCountInString(s), max)
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) && r != '\u200d' }) >= 0:
		return "holds a control character (a newline, a tab or an invisible format character): write it on one line"
	}
	return ""
}

// clip shortens what an error quotes back: an operator needs to see which
// value it was, not 2 KB of it.
func clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	return s[:80] + "…"
}
