package server

import (
	"testing"
)

// TestThePageWithoutScriptPicksTheStatesLanguageFromAcceptLanguage reads
// Accept-Language headers as browsers send them: the first language by
// weight that the sentence is written in, English when that comes first
// or nothing matches, and a language refused (q=0) or badly weighted
// never.
func TestThePageWithoutScriptPicksTheStatesLanguageFromAcceptLanguage(t *testing.T) {
	for _, tt := range []struct{ header, want string }{
		{"", ""},
		{"de-DE,de;q=0.9,en;q=0.8", "de"},
		{"en-US,en;q=0.9,de;q=0.8", ""},
		{"fr;q=0.5, ja", "ja"},
		{"pt-BR, es-MX;q=0.7", "es"},
		{"it, nl", ""},
		{"de;q=0, fr;q=0.1", "fr"},
		{"de;q=high, ES", "es"},
		{"*", ""},
	} {
		if got := noscriptLanguage(tt.header); got != tt.want {
			t.Errorf("Accept-Language %q: %q, want %q", tt.header, got, tt.want)
		}
	}
}

// TestEveryLanguageOfThePageWithoutScriptSaysEveryState holds each
// translation of the state sentence to the English one's states.
func TestEveryLanguageOfThePageWithoutScriptSaysEveryState(t *testing.T) {
	for lang, words := range stateWordsIn {
		for state := range stateWords {
			if words[state] == "" {
				t.Errorf("%s: no words for %s", lang, state)
			}
		}
		for state := range words {
			if _, ok := stateWords[state]; !ok {
				t.Errorf("%s: words for %s, a state English does not say", lang, state)
			}
		}
	}
	if _, ok := stateWordsIn["en"]; ok {
		t.Error("English is stateWords itself, not a translation")
	}
}
