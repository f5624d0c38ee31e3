package catalog

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestACSVImportIsReadByItsHeaderInAnyOrder(t *testing.T) {
	in := "\ufeffname,SKU,currency,list_price_cents,image_url,description\n" +
		"Sneaker,SNK-1,EUR,8000,https://cdn.example/s.png,\"Light, fast\nand red\"\n" +
		"Boot,BT-2,EUR,12000,,\n"
	ps, err := ParseCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].SKU != "SNK-1" || ps[0].ListPriceCents != 8000 || ps[0].Description != "Light, fast\nand red" ||
		ps[1].Name != "Boot" || ps[1].ImageURL != "" {
		t.Errorf("read %+v", ps)
	}
}

func TestAJSONImportIsReadWhole(t *testing.T) {
	ps, err := ParseJSON([]byte(`{"products":[{"sku":"SNK-1","name":"Sneaker","list_price_cents":8000,"currency":"EUR"}]}`))
	if err != nil || len(ps) != 1 || ps[0].Name != "Sneaker" {
		t.Fatalf("read %+v, %v", ps, err)
	}
}

func TestABadRowRefusesTheImportNamingTheRowAndWhy(t *testing.T) {
	good := "SNK-1,Sneaker,8000,EUR,,\n"
	header := "sku,name,list_price_cents,currency,image_url,description\n"
	cases := []struct {
		name, csv, want string
	}{
		{"a price that is no number", header + good + "BT-2,Boot,12.50,EUR,,\n", "row 3: list_price_cents must be a whole number"},
		{"a negative price", header + good + "BT-2,Boot,-1,EUR,,\n", "row 3: list_price_cents must be between 0 and"},
		{"a price past the bound", header + "BT-2,Boot,1000000001,EUR,,\n", "row 2: list_price_cents"},
		{"no name", header + good + "BT-2,,100,EUR,,\n", "row 3: name is required"},
		{"a sku of 65 characters", header + strings.Repeat("A", 65) + ",Boot,100,EUR,,\n", "row 2: sku must have at most 64"},
		{"a name with a tab", header + "BT-2,Bo\tot,100,EUR,,\n", "row 2: name must not contain control"},
		{"a currency in small letters", header + "BT-2,Boot,100,eur,,\n", "row 2: currency must be an ISO 4217"},
		{"an http image", header + "BT-2,Boot,100,EUR,http://cdn.example/b.png,\n", "row 2: image_url must be an absolute https://"},
		{"a javascript image", header + "BT-2,Boot,100,EUR,javascript:alert(1),\n", "row 2: image_url must be an absolute https://"},
		{"an image with a password", header + "BT-2,Boot,100,EUR,https://a:b@cdn.example/b.png,\n", "row 2: image_url must not hold a user"},
		{"a description of 2001 characters", header + "BT-2,Boot,100,EUR,," + strings.Repeat("é", 2001) + "\n", "row 2: description must have at most 2000"},
		{"a sku twice", header + good + good, `row 3: sku "SNK-1" is also in row 2`},
		{"a row too short", header + good + "BT-2,Boot\n", "row 3: "},
		{"an unknown column", "sku,name,list_price_cents,currency,colour\n", `row 1: unknown column "colour"`},
		{"no currency column", "sku,name,list_price_cents\n", `row 1: no column "currency"`},
		{"nothing at all", "", "the CSV is empty"},
		{"a header alone", header, "no products to import"},
	}
	for _, tc := range cases {
		_, err := ParseCSV(strings.NewReader(tc.csv))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrInvalid about %q", tc.name, err, tc.want)
		}
	}
	for name, body := range map[string]string{
		"row 2: name is required":             `{"products":[{"sku":"A","name":"A","list_price_cents":1,"currency":"EUR"},{"sku":"B","list_price_cents":1,"currency":"EUR"}]}`,
		`row 1: json: unknown field "colour"`: `{"products":[{"sku":"A","name":"A","list_price_cents":1,"currency":"EUR","colour":"red"}]}`,
		"row 1: json: cannot unmarshal":       `{"products":[{"sku":"A","name":"A","list_price_cents":"1","currency":"EUR"}]}`,
		"must be {":                           `[{"sku":"A"}]`,
	} {
		if _, err := ParseJSON([]byte(body)); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", body, err)
		}
	}
}

func TestAnImportOfMoreThanTenThousandRowsIsRefused(t *testing.T) {
	var b strings.Builder
	b.WriteString("sku,name,list_price_cents,currency\n")
	for i := range MaxRows + 1 {
		fmt.Fprintf(&b, "SKU-%d,Item %d,100,EUR\n", i, i)
	}
	if _, err := ParseCSV(strings.NewReader(b.String())); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "more than 10000") {
		t.Errorf("%d rows: %v", MaxRows+1, err)
	}
	var j strings.Builder
	j.WriteString(`{"products":[`)
	for i := range MaxRows + 1 {
		if i > 0 {
			j.WriteString(",")
		}
		fmt.Fprintf(&j, `{"sku":"SKU-%d","name":"Item","list_price_cents":100,"currency":"EUR"}`, i)
	}
	j.WriteString("]}")
	if _, err := ParseJSON([]byte(j.String())); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "more than 10000") {
		t.Errorf("%d JSON rows: %v", MaxRows+1, err)
	}
}
