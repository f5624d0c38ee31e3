package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/foyerhq/foyer/waitingroom"
)

// noscriptMark is where index.html takes the sale's state, told in words,
// for a browser that runs no script (web/static/index.html's <noscript>).
const noscriptMark = "<!--foyer:noscript-->"

// shopURLMeta is the shopper page's empty link back to the shop, filled
// from Config.ShopURL once, when the pages are built.
const shopURLMeta = `<meta name="foyer-shop-url" content="">`

// stateWords says each state to a shopper who sees no live page.
var stateWords = map[waitingroom.State]string{
	waitingroom.StateScheduled: "The queue is not open yet.",
	waitingroom.StatePrequeue:  "The queue is open: places are decided by a fair draw at the start.",
	waitingroom.StateOpen:      "The sale is open.",
	waitingroom.StatePaused:    "The sale is paused for now.",
	waitingroom.StateSoldOut:   "Sold out.",
	waitingroom.StateEnded:     "This sale has ended.",
}

// stateWordsIn says each state in the shopper page's other languages
// (web/static/i18n/), for a shopper whose browser asks for one: without
// script, the page cannot pick a language itself. Only this sentence is
// translated; the rest of the part stays English (docs/languages.md).
var stateWordsIn = map[string]map[waitingroom.State]string{
	"de": {
		waitingroom.StateScheduled: "Die Warteschlange ist noch nicht offen.",
		waitingroom.StatePrequeue:  "Die Warteschlange ist offen: Die Plätze werden zum Start fair ausgelost.",
		waitingroom.StateOpen:      "Der Verkauf ist geöffnet.",
		waitingroom.StatePaused:    "Der Verkauf ist vorerst pausiert.",
		waitingroom.StateSoldOut:   "Ausverkauft.",
		waitingroom.StateEnded:     "Dieser Verkauf ist beendet.",
	},
	"fr": {
		waitingroom.StateScheduled: "La file n’est pas encore ouverte.",
		waitingroom.StatePrequeue:  "La file est ouverte\u00a0: les places sont tirées au sort équitablement au début.",
		waitingroom.StateOpen:      "La vente est ouverte.",
		waitingroom.StatePaused:    "La vente est en pause pour le moment.",
		waitingroom.StateSoldOut:   "Épuisé.",
		waitingroom.StateEnded:     "Cette vente est terminée.",
	},
	"es": {
		waitingroom.StateScheduled: "La cola aún no está abierta.",
		waitingroom.StatePrequeue:  "La cola está abierta: los puestos se deciden en un sorteo justo al empezar.",
		waitingroom.StateOpen:      "La venta está abierta.",
		waitingroom.StatePaused:    "La venta está en pausa por ahora.",
		waitingroom.StateSoldOut:   "Agotado.",
		waitingroom.StateEnded:     "Esta venta ha terminado.",
	},
	"ja": {
		waitingroom.StateScheduled: "列の受付はまだ始まっていません。",
		waitingroom.StatePrequeue:  "列の受付中です。順番は開始時に公平な抽選で決まります。",
		waitingroom.StateOpen:      "販売中です。",
		waitingroom.StatePaused:    "販売は一時停止中です。",
		waitingroom.StateSoldOut:   "売り切れです。",
		waitingroom.StateEnded:     "この販売は終了しました。",
	},
}

// noscriptLanguage is the first language of an Accept-Language header,
// by its q weights, that stateWordsIn speaks; "" for English (asked for,
// or nothing better).
func noscriptLanguage(header string) string {
	type wanted struct {
		base string
		q    float64
	}
	var langs []wanted
	for _, item := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(item), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			parsed, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue // a weight that cannot be read: the item is not counted
			}
			q = parsed
		}
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if base != "" && q > 0 {
			langs = append(langs, wanted{base, q})
		}
	}
	sort.SliceStable(langs, func(i, j int) bool { return langs[i].q > langs[j].q })
	for _, l := range langs {
		if l.base == "en" {
			return ""
		}
		if _, ok := stateWordsIn[l.base]; ok {
			return l.base
		}
	}
	return ""
}

// noscriptView is what the <noscript> part of the page shows. StateLang
// is the language State is in, when not the page's English.
type noscriptView struct {
	Name, State, StateLang, When, Stock, Message string
	JSON, Shop                                   string
}

var noscriptPage = template.Must(template.New("noscript").Parse(
	`{{if .Name}}<p><strong>{{.Name}}</strong></p>{{end}}<p{{if .StateLang}} lang="{{.StateLang}}"{{end}}>{{.State}}</p>` +
		`{{if .When}}<p>{{.When}}</p>{{end}}{{if .Stock}}<p>{{.Stock}}</p>{{end}}` +
		`{{if .Message}}<p>{{.Message}}</p>{{end}}` +
		`{{if .JSON}}<p><a href="{{.JSON}}">The sale’s state, as data</a></p>{{end}}` +
		`{{if .Shop}}<p><a href="{{.Shop}}">Back to the shop</a></p>{{end}}`))

// noscriptState renders what a page without script says of the sale the
// link names: its state as the server has it at this moment, in the
// language acceptLanguage (the request's Accept-Language) asks for when
// stateWordsIn has it. A sale that cannot be read (unknown, or the data
// out of reach) is said so, never an error page: the rest of the page is
// the same for everyone.
func (s *Server) noscriptState(ctx context.Context, saleID, acceptLanguage string) []byte {
	v := noscriptView{Shop: s.cfg.ShopURL}
	switch {
	case saleID == "":
		v.State = "No sale chosen: open the link the shop gave you."
	case !waitingroom.ValidSaleID(saleID):
		v.State = "We could not find this sale. The link may be mistyped or out of date."
	default:
		st, err := s.deps.Rooms.Status(ctx, saleID)
		switch {
		case errors.Is(err, waitingroom.ErrSaleNotFound):
			v.State = "We could not find this sale. The link may be mistyped or out of date."
		case err != nil:
			v.State = "We cannot tell the sale’s state right now."
			v.JSON = "/v1/sales/" + url.PathEscape(saleID)
		default:
			v = describeSale(st, v.Shop)
			lang := noscriptLanguage(acceptLanguage)
			if words, ok := stateWordsIn[lang][st.State]; ok {
				v.State, v.StateLang = words, lang
			}
		}
	}
	var b bytes.Buffer
	if err := noscriptPage.Execute(&b, v); err != nil {
		return []byte("<p>We cannot tell the sale’s state right now.</p>")
	}
	return b.Bytes()
}

// describeSale puts a sale's status in a shopper's words. Times are in
// UTC, said so: without script the page cannot know the shopper's zone.
func describeSale(st waitingroom.Status, shop string) noscriptView {
	v := noscriptView{Name: st.Name, State: stateWords[st.State], Message: st.Message, Shop: shop,
		JSON: "/v1/sales/" + url.PathEscape(st.SaleID)}
	if v.State == "" {
		v.State = string(st.State)
	}
	at := func(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") }
	switch st.State {
	case waitingroom.StateScheduled:
		v.When = "The queue opens " + at(st.PrequeueAt) + "; the sale starts " + at(st.StartsAt) + "."
	case waitingroom.StatePrequeue:
		v.When = "The sale starts " + at(st.StartsAt) + "."
	case waitingroom.StateOpen, waitingroom.StatePaused:
		v.When = "It ends " + at(st.EndsAt) + "."
		if st.Available == 0 && st.Held > 0 {
			v.Stock = "Every unit is held by shoppers checking out; some may come back."
		} else {
			v.Stock = fmt.Sprintf("%d of %d left.", st.Available, st.Stock)
		}
	case waitingroom.StateSoldOut:
		if st.Held > 0 {
			v.Stock = "Some units are held by shoppers checking out and may come back."
		}
	}
	return v
}

// withShopURL fills the page's link back to the shop, when there is one.
func withShopURL(page []byte, shop string) []byte {
	if shop == "" {
		return page
	}
	meta := `<meta name="foyer-shop-url" content="` + template.HTMLEscapeString(shop) + `">`
	return bytes.Replace(page, []byte(shopURLMeta), []byte(meta), 1)
}

// isShopperPage tells whether a path serves the shopper page.
func isShopperPage(path string) bool { return path == "/" || path == "/index.html" }

// ErrBadShopURL is a shop URL (Config.ShopURL) the page cannot link to.
var ErrBadShopURL = errors.New("bad shop URL")

// CheckShopURL accepts an absolute http or https URL, or none: the page
// links shoppers there, so a relative path, another scheme (javascript:)
// or a URL a page's attribute cannot hold as it is, is refused.
func CheckShopURL(u string) error {
	if u == "" {
		return nil
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || strings.ContainsAny(u, "\"<>' \t\n") {
		return fmt.Errorf("%w: it must be an absolute http or https URL such as https://shop.example/, not %q", ErrBadShopURL, u)
	}
	return nil
}
