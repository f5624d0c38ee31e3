package checkout_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/foyerhq/foyer/checkout"
)

func TestACheckoutWhosePublishFailsIsStillConfirmedAndKeptInTheOutbox(t *testing.T) {
	s := openSale(t, 3)
	alice := s.admit(t, "alice")[0]
	s.publisher.failNext(1)

	receipt, err := s.service.Checkout(t.Context(), saleID, s.token(t, alice), 1)
	if err != nil {
		t.Fatalf("Checkout = %v; a failed publish must not fail a confirmed checkout", err)
	}
	if receipt.Status != "confirmed" {
		t.Errorf("receipt = %+v", receipt)
	}
	if got := s.counters(t); got.Sold != 1 || got.Held != 0 {
		t.Errorf("counters = %+v; want the unit sold", got)
	}
	if ids := s.outbox(t); !slices.Equal(ids, []string{alice.ID}) {
		t.Errorf("outbox = %v, want [%s]", ids, alice.ID)
	}
	if n := len(s.published(t)); n != 0 {
		t.Errorf("%d messages published through a failing publisher", n)
	}
}

func TestTheOutboxRelayPublishesWhatCheckoutCouldNotAndEmptiesTheOutbox(t *testing.T) {
	s := openSale(t, 3)
	alice := s.admit(t, "alice")[0]
	s.publisher.failNext(1)
	from := time.Now()
	if _, err := s.service.Checkout(t.Context(), saleID, s.token(t, alice), 1); err != nil {
		t.Fatal(err)
	}
	to := time.Now()

	// With its default age the relay leaves a fresh entry to the node that
	// may be publishing it right now.
	patient := checkout.NewOutboxRelay(s.service)
	if n, err := patient.RelayOnce(t.Context()); n != 0 || err != nil {
		t.Fatalf("RelayOnce with Age %v = %d, %v; want a fresh entry left alone", patient.Age, n, err)
	}
	if ids := s.outbox(t); len(ids) != 1 {
		t.Fatalf("outbox = %v, want the entry still there", ids)
	}

	relay := checkout.NewOutboxRelay(s.service)
	relay.Age = 0
	n, err := relay.RelayOnce(t.Context())
	if n != 1 || err != nil {
		t.Fatalf("RelayOnce = %d, %v; want 1 relayed", n, err)
	}
	if ids := s.outbox(t); len(ids) != 0 {
		t.Errorf("outbox = %v after relaying, want it empty", ids)
	}
	published := s.published(t)
	if len(published) != 1 {
		t.Fatalf("%d messages published, want 1", len(published))
	}
	// The relay rebuilds the very message checkout would have sent.
	wantDelivery(t, published[0], alice, from, to)

	if n, err := relay.RelayOnce(t.Context()); n != 0 || err != nil {
		t.Errorf("RelayOnce on an empty outbox = %d, %v; want 0", n, err)
	}
}

func TestTheOutboxRelayKeepsAnEntryItFailedToPublishForTheNextRound(t *testing.T) {
	s := openSale(t, 3)
	admitted := s.admit(t, "alice", "bob")
	s.publisher.failNext(2)
	for _, r := range admitted {
		if _, err := s.service.Checkout(t.Context(), saleID, s.token(t, r), 1); err != nil {
			t.Fatal(err)
		}
	}
	relay := checkout.NewOutboxRelay(s.service)
	relay.Age = 0

	s.publisher.failNext(1)
	if _, err := relay.RelayOnce(t.Context()); !errors.Is(err, errInjected) {
		t.Fatalf("RelayOnce = %v, want the publisher's error", err)
	}
	if ids := s.outbox(t); len(ids) == 0 {
		t.Fatal("the outbox was emptied though publishing failed")
	}

	if _, err := relay.RelayOnce(t.Context()); err != nil {
		t.Fatalf("RelayOnce: %v", err)
	}
	if ids := s.outbox(t); len(ids) != 0 {
		t.Errorf("outbox = %v, want it empty", ids)
	}
	var got []string
	for _, d := range s.published(t) {
		got = append(got, d.UUID)
	}
	slices.Sort(got)
	want := []string{admitted[0].ID, admitted[1].ID}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("published %v, want each reservation once: %v", got, want)
	}
}
