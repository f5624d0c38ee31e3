package server

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestOnlyAPostToASalesEventsIsAStreamPost(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		want         bool
	}{
		{http.MethodPost, "/v1/sales/s_1/events", true},
		{http.MethodGet, "/v1/sales/s_1/events", false},
		{http.MethodPost, "/v1/sales//events", false},
		{http.MethodPost, "/v1/sales/s_1/x/events", false},
		{http.MethodPost, "/v1/sales/s_1/checkout", false},
		{http.MethodPost, "/v1/sessions", false},
		{http.MethodPost, "/v1/admin/sales/s_1/events", false},
	} {
		r, _ := http.NewRequest(tc.method, "http://x"+tc.path, nil)
		if got := isStreamPost(r); got != tc.want {
			t.Errorf("%s %s: %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestAStreamKeyIsSixteenToSixtyFourPlainCharacters(t *testing.T) {
	for key, ok := range map[string]bool{
		strings.Repeat("a", 16):        true,
		strings.Repeat("Z9-_", 16):     true,
		strings.Repeat("a", 15):        false,
		strings.Repeat("a", 65):        false,
		"":                             false,
		"abcdefghijklmnop/":            false,
		"abcdefghijklmnop=":            false,
		"abcdefghijklmnopé":            false,
		"abcdefgh ijklmnop":            false,
		"abcdefghijklmnop&session=new": false,
	} {
		err := validStreamKey(key)
		if (err == nil) != ok {
			t.Errorf("%q: %v, want valid %v", key, err, ok)
		}
		if err != nil && !errors.Is(err, errBadRequest) {
			t.Errorf("%q: %v, want a bad request", key, err)
		}
	}
}
