package app_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/foyerhq/foyer/web"
)

// catalogCall is how a language's file hands its messages over: one call
// of FoyerI18n.catalog with the language's code, its own name and the
// messages as JSON (docs/languages.md).
var catalogCall = regexp.MustCompile(`(?s)FoyerI18n\.catalog\("([a-z]{2,3}(?:-[A-Za-z0-9]+)?)", "([^"]+)", (\{.*\})\);\s*$`)

// placeholder is a {name} a message is filled in at.
var placeholder = regexp.MustCompile(`\{(\w+)\}`)

// pluralForms are the forms of Intl.PluralRules (CLDR's categories).
var pluralForms = []string{"zero", "one", "two", "few", "many", "other"}

// shopperCatalog is one language of the shopper page, as its file holds it.
type shopperCatalog struct {
	code, name string
	messages   map[string]json.RawMessage
}

// readCatalogs reads every catalog of the shopper page (web/static/i18n/,
// all but i18n.js, which says them), by file name.
func readCatalogs(t *testing.T) map[string]shopperCatalog {
	t.Helper()
	files, err := fs.Glob(web.FS(), "i18n/*.js")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]shopperCatalog{}
	for _, file := range files {
		if path.Base(file) == "i18n.js" {
			continue
		}
		src, err := fs.ReadFile(web.FS(), file)
		if err != nil {
			t.Fatal(err)
		}
		m := catalogCall.FindSubmatch(src)
		if m == nil {
			t.Errorf("%s: no FoyerI18n.catalog(code, name, {JSON}); at its end", file)
			continue
		}
		c := shopperCatalog{code: string(m[1]), name: string(m[2])}
		if err := json.Unmarshal(m[3], &c.messages); err != nil {
			t.Errorf("%s: its messages are not JSON: %v", file, err)
			continue
		}
		if want := strings.TrimSuffix(path.Base(file), ".js"); c.code != want {
			t.Errorf("%s: names its language %q, want %q as its file", file, c.code, want)
		}
		got[c.code] = c
	}
	return got
}

// messageForms is a message's text by plural form ("" for a plain string),
// or an error when it is neither a string nor an object of plural forms.
func messageForms(raw json.RawMessage) (map[string]string, error) {
	var plain string
	if err := json.Unmarshal(raw, &plain); err == nil {
		return map[string]string{"": plain}, nil
	}
	var forms map[string]string
	if err := json.Unmarshal(raw, &forms); err != nil {
		return nil, fmt.Errorf("neither a string nor an object of plural forms: %s", raw)
	}
	if _, ok := forms["other"]; !ok {
		return nil, fmt.Errorf("plural forms without \"other\": %s", raw)
	}
	for form := range forms {
		if !slices.Contains(pluralForms, form) {
			return nil, fmt.Errorf("%q is not a plural form of Intl.PluralRules", form)
		}
	}
	return forms, nil
}

// placeholdersOf lists the {names} of a message's forms, sorted.
func placeholdersOf(forms map[string]string) []string {
	seen := map[string]bool{}
	for _, text := range forms {
		for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
			seen[m[1]] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// TestEveryLanguageHasEveryMessageOfEnglishWithItsPlaceholders holds each
// catalog of the shopper page to English's: the same keys, no more, no
// fewer; each message a non-empty text (or plural forms of one) with the
// same {placeholders}; and each language loaded by the page. A missing key
// would be said in English, an extra one never; a placeholder lost would
// drop a number from the sentence.
func TestEveryLanguageHasEveryMessageOfEnglishWithItsPlaceholders(t *testing.T) {
	catalogs := readCatalogs(t)
	en, ok := catalogs["en"]
	if !ok {
		t.Fatal("no English catalog (i18n/en.js), which every other follows")
	}
	for _, want := range []string{"en", "de", "fr", "es", "ja"} {
		if _, ok := catalogs[want]; !ok {
			t.Errorf("no catalog for %q", want)
		}
	}
	page, err := fs.ReadFile(web.FS(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	for code, c := range catalogs {
		if tag := `<script src="i18n/` + code + `.js" defer></script>`; !strings.Contains(string(page), tag) {
			t.Errorf("%s: index.html does not load it (%s)", code, tag)
		}
		for key := range c.messages {
			if _, ok := en.messages[key]; !ok {
				t.Errorf("%s: %q is not a key of English", code, key)
			}
		}
		for key, enRaw := range en.messages {
			raw, ok := c.messages[key]
			if !ok {
				t.Errorf("%s: %q is missing", code, key)
				continue
			}
			forms, err := messageForms(raw)
			if err != nil {
				t.Errorf("%s: %q: %v", code, key, err)
				continue
			}
			for form, text := range forms {
				if strings.TrimSpace(text) == "" {
					t.Errorf("%s: %q (%s) is empty", code, key, form)
				}
			}
			enForms, err := messageForms(enRaw)
			if err != nil {
				t.Errorf("en: %q: %v", key, err)
				continue
			}
			if got, want := placeholdersOf(forms), placeholdersOf(enForms); !slices.Equal(got, want) {
				t.Errorf("%s: %q has the placeholders %v, English %v", code, key, got, want)
			}
		}
	}
}

// messageUse finds the keys the page asks for by name: t("key"), a key
// chosen by a condition (t(paying ? "checkout.pay" : ...), {key:
// "notice.busy"}), and data-i18n="key" / data-i18n-label="key" in its HTML.
var messageUse = regexp.MustCompile(`\bt\("([\w.]+)"|data-i18n(?:-label)?="([\w.]+)"|[?:] "([a-z]+\.[A-Za-z_]+)"`)

// messageFamily finds the keys the page makes from a prefix and a value,
// `state.${state}`: all keys of that prefix count as used.
var messageFamily = regexp.MustCompile("`([a-z]+)\\.\\$\\{")

// TestEveryMessageThePageSaysIsInEnglish reads the shopper page's scripts
// and HTML for the messages they say: each must be a key of English, or
// the page would show the key itself; and each key of English must be
// said somewhere, or it is a translation nobody reads.
func TestEveryMessageThePageSaysIsInEnglish(t *testing.T) {
	en := readCatalogs(t)["en"]
	used, families := map[string]bool{}, map[string]bool{}
	modules, err := fs.Glob(web.FS(), "shopper/*.js")
	if err != nil || len(modules) == 0 {
		t.Fatalf("the page's modules (shopper/*.js): %v %q", err, modules)
	}
	for _, file := range append([]string{"index.html", "errors.js", "attention.js", "payment.js", "price.js", "branding.js", "i18n/i18n.js"}, modules...) {
		src, err := fs.ReadFile(web.FS(), file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range messageUse.FindAllSubmatch(src, -1) {
			for _, key := range m[1:] {
				if len(key) > 0 {
					used[string(key)] = true
				}
			}
		}
		for _, m := range messageFamily.FindAllSubmatch(src, -1) {
			families[string(m[1])] = true
		}
	}
	for key := range used {
		if _, ok := en.messages[key]; !ok && strings.Contains(key, ".") && !strings.HasSuffix(key, ".js") {
			t.Errorf("the page says %q, which English has no message for", key)
		}
	}
	for key := range en.messages {
		family, _, _ := strings.Cut(key, ".")
		if !used[key] && !families[family] {
			t.Errorf("English's %q is said nowhere on the page", key)
		}
	}
}
