package server

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/fanout"
	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

var update = flag.Bool("update", false, "rewrite the golden files of the protocol's messages")

// TestEveryServerMessageEncodesAsItsGoldenFile pins the wire format of every
// message the server sends: a change to a field's name, type or presence
// shows up as a diff of testdata/golden, to be reviewed with docs/protocol.md.
func TestEveryServerMessageEncodesAsItsGoldenFile(t *testing.T) {
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	sale := saleView{ID: "s_golden", Name: "Runner", PriceCents: 12900, Currency: "EUR", State: waitingroom.StatePrequeue,
		StartsAt: at, EndsAt: at.Add(time.Hour), PrequeueAt: at.Add(-15 * time.Minute), Waiting: 5000,
		Stock: fanout.StockMsg{Total: 100, Left: 80, Held: 15, Sold: 5}, SeedHash: "4f92d4aafce60b9a817aa4481a4d21304fb41e4468f89cd02f3e75da435f4857"}
	messages := map[string]any{
		wire.MsgWelcome: welcomeMsg{Type: wire.MsgWelcome, Protocol: 1, ServerTime: at.UnixMilli(), Sale: sale,
			You: youView{ShopperID: "v_golden"},
			Pow: &wire.PowChallenge{Challenge: "ARAAAAGiHDuigD9PTYAqq_3tuQXm8RxLTOk.7qnE9IiavYhwBRoGKbp4peHY3GQThaRqBEcuvaaOcJE", Difficulty: 16}},
		wire.MsgTime:     timeMsg{Type: wire.MsgTime, ClientTime: at.UnixMilli() - 40, ServerTime: at.UnixMilli()},
		wire.MsgPrequeue: fanout.PrequeueMsg{Type: wire.MsgPrequeue, Ticket: 17, SeedHash: "4f92d4aafce60b9a817aa4481a4d21304fb41e4468f89cd02f3e75da435f4857", StartsAt: at},
		wire.MsgPosition: fanout.PositionMsg{Type: wire.MsgPosition, Position: 412, Ahead: 411, Waiting: 5000, ETA: &fanout.ETA{Min: 36, Max: 78}},
		wire.MsgStock:    fanout.StockMsg{Type: wire.MsgStock, Total: 100, Left: 0, Held: 20, Sold: 80, AllHeld: true},
		wire.MsgState:    fanout.StateMsg{Type: wire.MsgState, State: waitingroom.StateOpen, Seed: "KQ2XH7"},
		wire.MsgAdmitted: fanout.AdmittedMsg{Type: wire.MsgAdmitted, ReservationID: "r_golden", Token: "eyJ.x.y",
			AdmittedAt: at, ExpiresAt: at.Add(5 * time.Minute), CheckoutURL: "https://foyer.example.com/v1/sales/s_golden/checkout",
			Checkout: wire.CheckoutFoyer},
		wire.MsgExpired: fanout.ExpiredMsg{Type: wire.MsgExpired, ReservationID: "r_golden"},
		wire.MsgOrder:   fanout.OrderMsg{Type: wire.MsgOrder, ReservationID: "r_golden", OrderID: 42, Status: "paid"},
		wire.MsgSoldOut: fanout.SoldOutMsg{Type: wire.MsgSoldOut},
		wire.MsgError:   errorMsg{Type: wire.MsgError, Code: "bad_message", Message: "bad message: unknown type \"teleport\""},
		wire.MsgPong:    pongMsg{Type: wire.MsgPong},
		wire.MsgLeft:    fanout.LeftMsg{Type: wire.MsgLeft},
		wire.MsgNotice:  fanout.NoticeMsg{Type: wire.MsgNotice, Code: fanout.NoticeDegraded, Message: "We are having trouble reaching our servers; your place is kept — please stay on this page"},
	}
	for _, typ := range wire.ServerMessageTypes {
		msg, ok := messages[typ]
		if !ok {
			t.Errorf("no golden example of %q", typ)
			continue
		}
		got := append(encode(msg), '\n')
		path := filepath.Join("testdata", "golden", typ+".json")
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./server -run Golden -update to write it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s encodes as\n%s\nbut %s holds\n%s", typ, got, path, want)
		}
	}
}

func TestClientMessagesDecodeOrSayWhatIsWrong(t *testing.T) {
	cases := []struct {
		in   string
		want string // the type, or "" for errBadMessage
	}{
		{`{"type":"join"}`, "join"},
		{`{"type":"time","client_time":1795000000000}`, "time"},
		{`{"type":"resume","anything":"else"}`, "resume"},
		{`{"type":"join","pow":{"challenge":"AR.x","solution":"11617"}}`, "join"},
		{`{"type":"join","pow":"11617"}`, ""},
		{`{"type":"teleport"}`, ""},
		{`{"type":7}`, ""},
		{`not json`, ""},
		{`[]`, ""},
		{``, ""},
	}
	for _, tc := range cases {
		m, err := decodeClientMsg([]byte(tc.in))
		if tc.want == "" {
			if !errors.Is(err, errBadMessage) {
				t.Errorf("decode %q: %v, want errBadMessage", tc.in, err)
			}
			continue
		}
		if err != nil || m.Type != tc.want {
			t.Errorf("decode %q: %+v, %v; want type %s", tc.in, m, err, tc.want)
		}
	}
}

// FuzzDecodeClientMessage feeds the decoder anything: it must never panic,
// and whatever it accepts must be a type the protocol knows.
func FuzzDecodeClientMessage(f *testing.F) {
	f.Add([]byte(`{"type":"join"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeClientMsg(data)
		if err == nil && !slices.Contains(wire.ClientMessageTypes, m.Type) {
			t.Errorf("accepted %q as unknown type %q", data, m.Type)
		}
		if err != nil && !errors.Is(err, errBadMessage) {
			t.Errorf("decode %q: %v is not errBadMessage", data, err)
		}
	})
}

func TestTheProtocolDocShowsEveryMessageByItsGoldenExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range wire.ServerMessageTypes {
		golden, err := os.ReadFile(filepath.Join("testdata", "golden", typ+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(doc, bytes.TrimSpace(golden)) {
			t.Errorf("docs/protocol.md does not show the %s message as it is encoded:\n%s", typ, golden)
		}
	}
	for _, typ := range wire.ClientMessageTypes {
		if !bytes.Contains(doc, []byte(`{"type":"`+typ+`"`)) {
			t.Errorf("docs/protocol.md shows no %s message from a client", typ)
		}
	}
}
