package shop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// Foyer calls Foyer's shop endpoints, server to server, with the shop's key.
type Foyer struct {
	BaseURL string
	Key     string // fk_<id>_<secret>, scope redeem
	Client  *http.Client
}

// Redeemed is Foyer's answer to a redeem: the unit is sold, once.
type Redeemed struct {
	ReservationID string `json:"reservation_id"`
	SaleID        string `json:"sale_id"`
	ShopperID     string `json:"shopper_id"`
	OrderRef      string `json:"order_ref"`
	Quantity      int    `json:"quantity"`
	Status        string `json:"status"`
	// Replayed is true when this answers a retry with the same
	// Idempotency-Key: the unit was sold by the first.
	Replayed bool `json:"replayed"`
}

// APIError is Foyer's refusal: its status and documented code
// (reservation_expired, token_expired, token_reused, token_wrong_sale, ...).
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("foyer answered %d %s: %s", e.Status, e.Code, e.Message)
}

// Redeem tells Foyer the shop sold the held unit under its order reference.
// idempotencyKey makes a retry (a timeout, a double click) safe: the same
// key with the same body gets the same answer, and sells nothing twice.
func (f *Foyer) Redeem(ctx context.Context, reservationID, idempotencyKey, saleID, token, orderRef string) (Redeemed, error) {
	var out Redeemed
	err := f.post(ctx, "/v1/reservations/"+url.PathEscape(reservationID)+"/redeem", idempotencyKey,
		map[string]string{"sale_id": saleID, "token": token, "order_ref": orderRef}, &out)
	if err != nil {
		return Redeemed{}, fmt.Errorf("redeem %s: %w", reservationID, err)
	}
	return out, nil
}

// Release gives the held unit back to the sale at once; releasing twice
// answers the same.
func (f *Foyer) Release(ctx context.Context, reservationID, saleID, token string) error {
	var out struct {
		Released bool `json:"released"`
	}
	err := f.post(ctx, "/v1/reservations/"+url.PathEscape(reservationID)+"/release", "",
		map[string]string{"sale_id": saleID, "token": token}, &out)
	if err != nil {
		return fmt.Errorf("release %s: %w", reservationID, err)
	}
	return nil
}

func (f *Foyer) post(ctx context.Context, path, idempotencyKey string, body, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.BaseURL+path, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+f.Key)
	req.Header.Set("Content-Type", "application/json")
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	resp, err := f.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Code, Message string }
		}
		_ = json.Unmarshal(answer, &e)
		return &APIError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
	}
	return json.Unmarshal(answer, out)
}
