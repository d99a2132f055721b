package cloud_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/comptoir/comptoir/cloud"
)

func TestNewDeadLetter(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	big := bytes.Repeat([]byte("ab"), cloud.MaxDeadLetterPayload)
	d := cloud.NewDeadLetter("t-1", "topic", "TOO_LARGE", strings.Repeat("é", 1000), big, at)
	if d.Size != len(big) || !d.Truncated || !bytes.Equal(d.Payload, big[:cloud.MaxDeadLetterPayload]) || &d.Payload[0] == &big[0] {
		t.Fatalf("large payload: size %d, truncated %v, %d bytes kept", d.Size, d.Truncated, len(d.Payload))
	}
	if sum := sha256.Sum256(big); d.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("sha256 = %q, want that of the whole payload", d.SHA256)
	}
	if len(d.Message) > 1024 || !utf8.ValidString(d.Message) || !strings.HasPrefix(strings.Repeat("é", 1000), d.Message) || len(d.Message) < 1020 {
		t.Fatalf("message cut to %d bytes, valid %v", len(d.Message), utf8.ValidString(d.Message))
	}
	small := cloud.NewDeadLetter("t-1", "topic", "MALFORMED", "m", []byte("{"), at)
	if small.Truncated || string(small.Payload) != "{" || small.Size != 1 ||
		small.SHA256 != "021fb596db81e6d02bf3d2586ee3981fe519f275c0ac9ca76bbcf2ebb4097d96" {
		t.Fatalf("small = %+v", small)
	}
}

func TestDeadLetterPage(t *testing.T) {
	ds := []cloud.DeadLetter{{ID: "1"}, {ID: "2"}, {ID: "3"}}
	if p, next := cloud.DeadLetterPage(ds, 2); len(p) != 2 || next != "2" {
		t.Fatalf("3 read for a page of 2 = %d, next %q; want 2, next 2", len(p), next)
	}
	if p, next := cloud.DeadLetterPage(ds, 3); len(p) != 3 || next != "" {
		t.Fatalf("3 read for a page of 3 = %d, next %q; want the last page", len(p), next)
	}
}
