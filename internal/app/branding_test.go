package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/foyerhq/foyer/internal/branding"
)

// Issue 23, branding: an operator sets a sale's logo, image, colours, link
// back to the shop and texts; the page reads them from a public route.

// testImageHost is the host the tests' brandings show images from.
const testImageHost = "cdn.shop.example"

// testBranding is a branding that passes every check.
var testBranding = map[string]any{
	"product_image_url": "https://" + testImageHost + "/p/sneaker.png", "logo_url": "https://" + testImageHost + "/logo.png",
	"shop_url": "https://shop.example/drops", "accent_color": "#0b5d1e", "background_color": "#fff8e7",
	"headline": "The spring drop", "description": "Two hundred pairs, one per shopper.",
	"waiting_text": "Stay on this page: your place is kept.", "sold_out_text": "All gone: the next drop is in May.",
}

// brandingState is what a refused request must leave as it was: the
// sale's stored branding and the number of audit rows.
func (s *system) brandingState(t *testing.T, saleID string) string {
	t.Helper()
	var row []string
	if err := s.DB.Select(&row, `SELECT row_to_json(b)::text FROM sale_branding b WHERE sale_id = $1`, saleID); err != nil {
		t.Fatal(err)
	}
	var audited int
	if err := s.DB.Get(&audited, `SELECT count(*) FROM admin_actions`); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s, %d audit rows", strings.Join(row, ""), audited)
}

func TestABrandingIsSetAuditedAndReadPubliclyWithOnlyWhatThePageShows(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_IMAGE_HOSTS": testImageHost})
	saleID := sys.createSale(t, map[string]any{"sku": "B-1", "name": "Spring sneaker", "stock": 5, "price_cents": 9900})
	sys.addOperator(t, "olga", "operator")
	olga := sys.signIn(t, "olga")

	var set struct {
		branding.Stored
		ImageHosts []string `json:"image_hosts"`
	}
	if status := sys.call(t, http.MethodPut, "/v1/admin/sales/"+saleID+"/branding", olga, testBranding, &set); status != http.StatusOK {
		t.Fatalf("PUT branding: %d", status)
	}
	if set.Headline != "The spring drop" || set.AccentColor != "#0b5d1e" || set.SaleName != "Spring sneaker" ||
		set.UpdatedAt.IsZero() || !slices.Equal(set.ImageHosts, []string{testImageHost}) {
		t.Errorf("PUT answered %+v", set)
	}
	var read branding.Stored
	if status := sys.call(t, http.MethodGet, "/v1/admin/sales/"+saleID+"/branding", sys.AdminToken, nil, &read); status != http.StatusOK || read.Branding != set.Branding {
		t.Errorf("GET (admin): %d %+v; want what was set", status, read)
	}
	var actor, detail string
	if err := sys.DB.QueryRow(`SELECT actor, detail::text FROM admin_actions WHERE sale_id = $1 AND action = 'branding'`, saleID).Scan(&actor, &detail); err != nil {
		t.Fatal(err)
	}
	if actor != "operator:olga" || !strings.Contains(detail, `"headline": "The spring drop"`) {
		t.Errorf("audit row by %s: %s; want operator:olga with the branding", actor, detail)
	}

	resp, err := http.Get(sys.URL + "/v1/sales/" + saleID + "/branding")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	var public map[string]any
	if err := json.Unmarshal(raw, &public); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("public GET: %d %s (%v)", resp.StatusCode, raw, err)
	}
	var keys []string
	for k := range public {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"accent_color", "background_color", "description", "headline", "logo_url", "product_image_url",
		"sale_name", "shop_url", "sold_out_text", "waiting_text"}
	if !slices.Equal(keys, want) || public["headline"] != "The spring drop" {
		t.Errorf("the public branding has %v (%s); want only %v, nothing of who set it or when", keys, raw, want)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=5" {
		t.Errorf("public branding's Cache-Control %q; want public, max-age=5", cc)
	}

	// The page lets in images from the listed host, and from no other.
	page, err := http.Get(sys.URL + "/?sale=" + saleID)
	if err != nil {
		t.Fatal(err)
	}
	_ = page.Body.Close()
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data: https://"+testImageHost+";") {
		t.Errorf("the page's policy %q; want img-src with https://%s", csp, testImageHost)
	}

	// A branding changed on this node shows at once on it.
	changed := map[string]any{"headline": "Now in green"}
	if status := sys.call(t, http.MethodPut, "/v1/admin/sales/"+saleID+"/branding", olga, changed, nil); status != http.StatusOK {
		t.Fatalf("second PUT: %d", status)
	}
	var again publicBrandingAnswer
	if status := sys.call(t, http.MethodGet, "/v1/sales/"+saleID+"/branding", "", nil, &again); status != http.StatusOK ||
		again.Headline != "Now in green" || again.LogoURL != "" {
		t.Errorf("public GET after a change: %d %+v; want the new branding alone", status, again)
	}
	// The node keeps what it read for a few seconds: a row changed behind
	// its back (by another node, say) is not asked for again at once.
	sys.DB.MustExec(`UPDATE sale_branding SET headline = 'Changed elsewhere' WHERE sale_id = $1`, saleID)
	var cached publicBrandingAnswer
	if status := sys.call(t, http.MethodGet, "/v1/sales/"+saleID+"/branding", "", nil, &cached); status != http.StatusOK || cached.Headline != "Now in green" {
		t.Errorf("public GET right after a change elsewhere: %d %q; want the node's copy, %q", status, cached.Headline, "Now in green")
	}
	var unknown errorCode
	if status := sys.call(t, http.MethodGet, "/v1/sales/no-such-sale/branding", "", nil, &unknown); status != http.StatusNotFound || unknown.Error.Code != "sale_not_found" {
		t.Errorf("public GET of an unknown sale: %d %q; want 404 sale_not_found", status, unknown.Error.Code)
	}
}

type publicBrandingAnswer struct {
	branding.Branding
	SaleName string `json:"sale_name"`
}

func TestABadBrandingIsRefusedSayingWhyAndChangesNothing(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_IMAGE_HOSTS": testImageHost})
	saleID := sys.createSale(t, map[string]any{"sku": "B-2", "name": "Spring sneaker", "stock": 5, "price_cents": 9900})
	if status := sys.call(t, http.MethodPut, "/v1/admin/sales/"+saleID+"/branding", sys.AdminToken, testBranding, nil); status != http.StatusOK {
		t.Fatalf("PUT branding: %d", status)
	}
	sys.addOperator(t, "vera", "viewer")
	vera := sys.signIn(t, "vera")
	with := func(field string, value any) map[string]any {
		b := map[string]any{}
		for k, v := range testBranding {
			b[k] = v
		}
		b[field] = value
		return b
	}
	for _, c := range []struct {
		name   string
		sale   string
		bearer string
		body   any
		status int
		code   string
		says   string
	}{
		{"a URL that is no URL", saleID, "", with("shop_url", "https://shop example/"), 422, "branding_invalid", "shop_url"},
		{"an http: image", saleID, "", with("logo_url", "http://"+testImageHost+"/logo.png"), 422, "branding_invalid", "logo_url must be an https URL"},
		{"a javascript: shop link", saleID, "", with("shop_url", "javascript:alert(document.cookie)"), 422, "branding_invalid", "shop_url must be an https URL"},
		{"an image on a host not listed", saleID, "", with("product_image_url", "https://tracker.example/p.png"), 422, "branding_invalid", "not in FOYER_IMAGE_HOSTS"},
		{"a headline too long", saleID, "", with("headline", strings.Repeat("a", 121)), 422, "branding_invalid", "longer than 120"},
		{"a text with a control character", saleID, "", with("waiting_text", "wait\u0007"), 422, "branding_invalid", "control character"},
		{"a colour that is no colour", saleID, "", with("accent_color", "red"), 422, "branding_invalid", "#rrggbb"},
		{"an accent too light for its button text", saleID, "", with("accent_color", "#ffd700"), 422, "branding_invalid", "below 4.5:1"},
		{"a background too dark for the text", saleID, "", with("background_color", "#222222"), 422, "branding_invalid", "choose a lighter background"},
		{"a field of the wrong type", saleID, "", with("headline", 7), 400, "bad_request", ""},
		{"an unknown sale", "no-such-sale", "", testBranding, 404, "sale_not_found", ""},
		{"a viewer", saleID, vera, testBranding, 403, "role_forbidden", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := sys.brandingState(t, saleID)
			bearer := c.bearer
			if bearer == "" {
				bearer = sys.AdminToken
			}
			var got struct {
				Error struct{ Code, Message string }
			}
			status := sys.call(t, http.MethodPut, "/v1/admin/sales/"+c.sale+"/branding", bearer, c.body, &got)
			if status != c.status || got.Error.Code != c.code || !strings.Contains(got.Error.Message, c.says) {
				t.Errorf("%d %s %q; want %d %s saying %q", status, got.Error.Code, got.Error.Message, c.status, c.code, c.says)
			}
			if after := sys.brandingState(t, saleID); after != before {
				t.Errorf("refused, yet the branding or the audit log changed:\n%s\n%s", before, after)
			}
		})
	}
}
