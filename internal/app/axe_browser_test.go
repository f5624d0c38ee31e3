package app_test

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core, vendored for tests only (testdata/axe/README.md).
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// axeViolation is one rule axe-core found broken, with where.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

func (v axeViolation) String() string {
	var where []string
	for _, n := range v.Nodes {
		where = append(where, fmt.Sprintf("%v %s", n.Target, n.HTML))
	}
	return fmt.Sprintf("%s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(where, "; "))
}

// axeRun is what runs axe-core on the whole page: the WCAG 2.x A and AA
// rules and axe's best practices, the set the "0 violations" means.
const axeRun = `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})
  .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target, html: n.html}))})))`

// axeViolations injects axe-core into the page as it is now (once per
// document) and returns what it finds. The injection goes through the
// DevTools protocol, which the page's Content-Security-Policy does not
// govern, so the page under test is the one shoppers get.
func axeViolations(ctx context.Context) ([]axeViolation, error) {
	var loaded bool
	if err := chromedp.Run(ctx, chromedp.Evaluate(`typeof window.axe === 'object'`, &loaded)); err != nil {
		return nil, fmt.Errorf("look for axe: %w", err)
	}
	if !loaded {
		if err := chromedp.Run(ctx, chromedp.Evaluate(axeSource, nil)); err != nil {
			return nil, fmt.Errorf("inject axe-core: %w", err)
		}
	}
	var got []axeViolation
	err := chromedp.Run(ctx, chromedp.Evaluate(axeRun, &got, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
		return p.WithAwaitPromise(true)
	}))
	if err != nil {
		return nil, fmt.Errorf("run axe-core: %w", err)
	}
	return got, nil
}

// accessible fails the test, naming the state, for each violation axe-core
// finds on the page at phone and desktop sizes; it leaves the phone size on.
func accessible(t *testing.T, state string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		for _, size := range []struct {
			label string
			w, h  int64
		}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
			if err := chromedp.EmulateViewport(size.w, size.h).Do(ctx); err != nil {
				return err
			}
			got, err := axeViolations(ctx)
			if err != nil {
				return fmt.Errorf("%s: %w", state, err)
			}
			for _, v := range got {
				t.Errorf("%s, %s: axe-core: %s", state, size.label, v)
			}
		}
		return nil
	})
}
