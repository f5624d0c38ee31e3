package localservers_test

import (
	"net/http"
	"testing"

	"github.com/foyerhq/foyer/internal/localservers"
)

func TestTwoStripeMocksRunSideBySideOnLoopback(t *testing.T) {
	for range 2 {
		s, err := localservers.StartStripeMock(t.Context(), localservers.StripeMockOptions{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := s.Stop(); err != nil {
				t.Error(err)
			}
		})
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL()+"/v1/payment_intents/pi_123", nil)
		req.SetBasicAuth("sk_test_123", "")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET a payment intent answered %s", resp.Status)
		}
	}
}
