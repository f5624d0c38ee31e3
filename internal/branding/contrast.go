package branding

import (
	"fmt"
	"math"
	"strconv"
)

// The colours of the shopper page (web/static/style.css) that a branding's
// colours must stay readable against. The page keeps its own text colours:
// a branding picks the accent and the background, and those are checked.
const (
	pageText       = "#1c1f26" // --text
	pageMutedText  = "#555c69" // --muted, the smaller grey text
	buttonText     = "#ffffff" // the text on accent buttons, and the cards that accent links sit on
	pageBackground = "#f3f4f7" // --bg, when a branding sets an accent only
)

// MinContrast is the contrast ratio the page's text keeps with what is
// behind it: WCAG 2's level AA for normal text, which the page is tested
// for (axe-core, 0 violations).
const MinContrast = 4.5

// colourProblems checks the accent and background colours: each must be
// #rrggbb; the page's text and grey text must stay readable on the
// background; the accent must be readable as white button text, as a link
// on the white cards, and as the brand's name on the background.
func colourProblems(accent, background string) []string {
	var why []string
	bad := false
	for _, c := range []struct{ field, colour string }{{"accent_color", accent}, {"background_color", background}} {
		if c.colour != "" && !isHexColour(c.colour) {
			why = append(why, fmt.Sprintf("%s must be a colour written #rrggbb, such as #1f4fd1, not %q", c.field, clip(c.colour)))
			bad = true
		}
	}
	if bad {
		return why
	}
	bg := background
	if bg != "" {
		for _, text := range []struct{ name, colour string }{{"the page's text", pageText}, {"its grey text", pageMutedText}} {
			if r := Contrast(text.colour, bg); r < MinContrast {
				why = append(why, fmt.Sprintf("background_color %s gives %s (%s) a contrast of %.2f:1, below %.1f:1: choose a lighter background",
					bg, text.name, text.colour, r, MinContrast))
			}
		}
	} else {
		bg = pageBackground
	}
	if accent != "" {
		if r := Contrast(buttonText, accent); r < MinContrast {
			why = append(why, fmt.Sprintf("accent_color %s gives white button text a contrast of %.2f:1, below %.1f:1: choose a darker accent",
				accent, r, MinContrast))
		} else if r := Contrast(accent, bg); r < MinContrast {
			why = append(why, fmt.Sprintf("accent_color %s on background %s has a contrast of %.2f:1, below %.1f:1: choose a darker accent or a lighter background",
				accent, bg, r, MinContrast))
		}
	}
	return why
}

// isHexColour tells whether c is #rrggbb in lower case.
func isHexColour(c string) bool {
	if len(c) != 7 || c[0] != '#' {
		return false
	}
	for _, r := range c[1:] {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}

// Contrast is WCAG 2's contrast ratio of two #rrggbb colours, from 1 (the
// same) to 21 (black on white). Both must be valid (isHexColour).
func Contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}

// luminance is WCAG 2's relative luminance of a #rrggbb colour, with
// its threshold of 0.03928 (as axe-core computes it).
func luminance(c string) float64 {
	channel := func(hex string) float64 {
		v, _ := strconv.ParseUint(hex, 16, 8)
		s := float64(v) / 255
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*channel(c[1:3]) + 0.7152*channel(c[3:5]) + 0.0722*channel(c[5:7])
}
