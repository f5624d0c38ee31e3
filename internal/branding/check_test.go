package branding_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/foyerhq/foyer/internal/branding"
)

var testHosts = []string{"cdn.shop.example", "img.example:8443"}

// full is a branding with every field set and every check passed.
func full() branding.Branding {
	return branding.Branding{
		ProductImageURL: "https://cdn.shop.example/p/sneaker.jpg", LogoURL: "https://img.example:8443/logo.png",
		ShopURL: "https://shop.example/drops", AccentColor: "#0B5D1E", BackgroundColor: "#FFF8E7",
		Headline: " The spring drop ", Description: "Two hundred pairs, one per shopper.",
		WaitingText: "Stay on this page: your place is kept.", SoldOutText: "All gone: see the shop for the next drop.",
	}
}

func TestABrandingWithinItsBoundsIsKeptNormalised(t *testing.T) {
	got, err := branding.Check(full(), testHosts)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccentColor != "#0b5d1e" || got.BackgroundColor != "#fff8e7" || got.Headline != "The spring drop" {
		t.Errorf("kept %+v; want colours in lower case and texts trimmed", got)
	}
	if _, err := branding.Check(branding.Branding{}, nil); err != nil {
		t.Errorf("an empty branding (Foyer's own look): %v", err)
	}
}

func TestABrandingThePageMustNotShowIsRefusedSayingWhy(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(*branding.Branding)
		why    string
	}{
		{"a URL that is no URL", func(b *branding.Branding) { b.ShopURL = "https://shop example/" }, "shop_url"},
		{"an http: shop link", func(b *branding.Branding) { b.ShopURL = "http://shop.example/" }, "must be an https URL"},
		{"a javascript: shop link", func(b *branding.Branding) { b.ShopURL = "javascript:alert(1)" }, "must be an https URL"},
		{"a data: image", func(b *branding.Branding) { b.LogoURL = "data:image/png;base64,AAAA" }, "logo_url must be an https URL"},
		{"an http: image", func(b *branding.Branding) { b.ProductImageURL = "http://cdn.shop.example/p.jpg" }, "product_image_url must be an https URL"},
		{"a relative image", func(b *branding.Branding) { b.ProductImageURL = "/p.jpg" }, "product_image_url"},
		{"an image on a host the page does not load from", func(b *branding.Branding) { b.LogoURL = "https://evil.example/l.png" }, "not in FOYER_IMAGE_HOSTS"},
		{"a URL with a password", func(b *branding.Branding) { b.ShopURL = "https://u:p@shop.example/" }, "user name or password"},
		{"a URL with a quote", func(b *branding.Branding) { b.ShopURL = `https://shop.example/"x` }, "quotes"},
		{"a URL too long", func(b *branding.Branding) { b.ShopURL = "https://shop.example/" + strings.Repeat("a", 2048) }, "longer than 2048"},
		{"a headline too long", func(b *branding.Branding) { b.Headline = strings.Repeat("é", 121) }, "headline is 121 characters"},
		{"a description too long", func(b *branding.Branding) { b.Description = strings.Repeat("a", 501) }, "description is 501"},
		{"a waiting text with a newline", func(b *branding.Branding) { b.WaitingText = "one\ntwo" }, "waiting_text holds a control character"},
		{"a sold-out text with a right-to-left override", func(b *branding.Branding) { b.SoldOutText = "gone\u202e" }, "control character"},
		{"a text that is not UTF-8", func(b *branding.Branding) { b.Headline = "\xff" }, "not UTF-8"},
		{"a colour by name", func(b *branding.Branding) { b.AccentColor = "green" }, "#rrggbb"},
		{"a short colour", func(b *branding.Branding) { b.BackgroundColor = "#fff" }, "#rrggbb"},
		{"a light accent under white button text", func(b *branding.Branding) { b.AccentColor = "#ffcc00" }, "white button text a contrast of"},
		{"a dark background under the page's text", func(b *branding.Branding) { b.BackgroundColor = "#333333" }, "choose a lighter background"},
		{"a mid grey background under the grey text", func(b *branding.Branding) { b.BackgroundColor = "#c0c0c0" }, "its grey text"},
		{"an accent readable on white but not on the background", func(b *branding.Branding) {
			b.AccentColor, b.BackgroundColor = "#6b6b6b", "#e6e6e6"
		}, "on background #e6e6e6"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := full()
			c.change(&b)
			got, err := branding.Check(b, testHosts)
			if !errors.Is(err, branding.ErrInvalid) || !strings.Contains(err.Error(), c.why) {
				t.Fatalf("Check: %v; want %v saying %q", err, branding.ErrInvalid, c.why)
			}
			if got != (branding.Branding{}) {
				t.Errorf("Check returned %+v with its refusal; want nothing", got)
			}
		})
	}
}

func TestContrastIsWCAGsRatio(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21}, {"#ffffff", "#ffffff", 1}, {"#777777", "#ffffff", 4.48}, {"#1f4fd1", "#ffffff", 6.78},
	} {
		if got := branding.Contrast(c.a, c.b); math.Abs(got-c.want) > 0.01 {
			t.Errorf("Contrast(%s, %s) = %.3f; want %.2f", c.a, c.b, got, c.want)
		}
	}
}

func TestImageHostsThatCouldBreakThePolicyAreRefused(t *testing.T) {
	if err := branding.CheckImageHosts([]string{"cdn.shop.example", "img.example:8443", "127.0.0.1:9000"}); err != nil {
		t.Errorf("good hosts: %v", err)
	}
	for _, bad := range []string{"", "*", "*.shop.example", "https://cdn.shop.example", "cdn.shop.example/img",
		"cdn.shop.example; script-src *", "CDN.shop.example", "a..b", "host:", "host:123456", ".example"} {
		if err := branding.CheckImageHosts([]string{bad}); err == nil {
			t.Errorf("CheckImageHosts(%q) accepted it", bad)
		}
	}
}
