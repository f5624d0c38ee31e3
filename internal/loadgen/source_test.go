package loadgen

import (
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

func TestPlayersConnectFromTheirSourceAddress(t *testing.T) {
	seen := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		seen <- host
	}))
	defer srv.Close()
	transport, err := transportFrom("127.0.0.3", 1)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: transport}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if host := <-seen; host != "127.0.0.3" {
		t.Errorf("the server saw the request come from %s, want 127.0.0.3", host)
	}
}

func TestSourcesExpandRangesAndRefuseNonsense(t *testing.T) {
	got, err := ParseSources("127.0.0.2-127.0.0.4, 10.0.0.1")
	if want := []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "10.0.0.1"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("ParseSources = %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"127.0.0.4-127.0.0.2", "127.0.0.1-x", "::1-::2"} {
		if _, err := ParseSources(bad); err == nil {
			t.Errorf("ParseSources(%q) accepted it", bad)
		}
	}
}

func TestPlayersShareTheShoppersAndTheSources(t *testing.T) {
	o, err := Options{URLs: []string{"http://a"}, SaleID: "s", Scenario: Hold, Shoppers: 45_001,
		Sources: []string{"127.0.0.2", "127.0.0.3"}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.Procs != 3 {
		t.Fatalf("%d processes for 45,001 shoppers, want 3", o.Procs)
	}
	total := 0
	for k := range o.Procs {
		cfg := o.player(k)
		total += cfg.Shoppers
		if cfg.Shoppers > MaxShoppersPerProcess || cfg.First != k || cfg.Stride != 3 || cfg.Source != o.Sources[k%2] {
			t.Errorf("player %d: %+v", k, cfg)
		}
	}
	if total != 45_001 {
		t.Errorf("players play %d shoppers in all, want 45,001", total)
	}
	if _, err := (Options{URLs: []string{"http://a"}, SaleID: "s", Scenario: Hold, Shoppers: 45_001, Procs: 2}).withDefaults(); err == nil {
		t.Error("two processes accepted for 45,001 shoppers")
	}
}
