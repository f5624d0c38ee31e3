package server

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func TestPagesPointAtContentNamedAssetsServedGzippedWithLongCacheLives(t *testing.T) {
	web := fstest.MapFS{
		"index.html":    {Data: []byte(`<link href="style.css"><script src="app.js"></script><script src="vendor/app.js"></script>`)},
		"app.js":        {Data: []byte(strings.Repeat("console.log('shopper');\n", 50))},
		"vendor/app.js": {Data: []byte("vendored")},
		"style.css":     {Data: []byte("body{}")},
	}
	s := New(Config{}, Deps{Web: web})
	get := func(path string, gzipOK bool) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if gzipOK {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		return rec
	}
	page := get("/", false)
	if page.Code != http.StatusOK || page.Header().Get("Cache-Control") != pageCache {
		t.Fatalf("page: %d, Cache-Control %q", page.Code, page.Header().Get("Cache-Control"))
	}
	html := page.Body.String()
	refs := regexp.MustCompile(`"(/assets/[^"]+)"`).FindAllStringSubmatch(html, -1)
	if len(refs) != 3 || strings.Contains(html, `"app.js"`) {
		t.Fatalf("the page does not point at hashed assets: %s", html)
	}
	for _, ref := range refs {
		a := get(ref[1], true)
		if a.Code != http.StatusOK || a.Header().Get("Cache-Control") != assetCache {
			t.Errorf("%s: %d, Cache-Control %q", ref[1], a.Code, a.Header().Get("Cache-Control"))
		}
		if strings.HasSuffix(ref[1], ".js") && strings.Contains(ref[1], "/assets/app.") {
			if a.Header().Get("Content-Encoding") != "gzip" {
				t.Errorf("%s is not gzipped", ref[1])
				continue
			}
			zr, _ := gzip.NewReader(a.Body)
			body, _ := io.ReadAll(zr)
			if !strings.Contains(string(body), "shopper") {
				t.Errorf("%s gunzips to %q", ref[1], body)
			}
		}
	}
	if get("/app.js", true).Code != http.StatusNotFound {
		t.Error("an asset is also served under its plain name: caches could keep a stale one")
	}
}
