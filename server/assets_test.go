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

// TestTheModulesOfAFolderShareOneContentNameSoTheirRelativeImportsResolve
// serves a page whose ES module imports a sibling by its relative name: the
// sibling must be served where the browser resolves that name, as
// JavaScript (a module of another type is refused under nosniff), and a
// change to the sibling alone must move the page's module to a new name,
// or a cache would pair the old module with the new sibling.
func TestTheModulesOfAFolderShareOneContentNameSoTheirRelativeImportsResolve(t *testing.T) {
	pageModule := func(api string) string {
		web := fstest.MapFS{
			"admin.html":    {Data: []byte(`<script type="module" src="admin/main.js"></script>`)},
			"admin/main.js": {Data: []byte(`import { api } from "./api.js"; api();`)},
			"admin/api.js":  {Data: []byte(api)},
		}
		s := New(Config{}, Deps{Web: web})
		get := func(path string) *httptest.ResponseRecorder {
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			return rec
		}
		ref := regexp.MustCompile(`src="(/assets/admin\.[0-9a-f]{10}/)main\.js"`).FindStringSubmatch(get("/admin.html").Body.String())
		if ref == nil {
			t.Fatalf("the page does not point at its module under a content-named folder: %s", get("/admin.html").Body)
		}
		for _, name := range []string{"main.js", "api.js"} { // api.js: where "./api.js" resolves from main.js
			a := get(ref[1] + name)
			if a.Code != http.StatusOK || !strings.HasPrefix(a.Header().Get("Content-Type"), "text/javascript") ||
				a.Header().Get("Cache-Control") != assetCache {
				t.Errorf("%s%s: %d, Content-Type %q, Cache-Control %q", ref[1], name, a.Code,
					a.Header().Get("Content-Type"), a.Header().Get("Cache-Control"))
			}
		}
		return ref[1]
	}
	before := pageModule(`export function api() { return 1; }`)
	if after := pageModule(`export function api() { return 2; }`); after == before {
		t.Errorf("a changed api.js left its folder at %s: a cached main.js would import the new one", before)
	}
}
