package scanner

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// TestDecodeSlotCoversImageDecode checks that the image is decoded inside a
// decode slot, not before it: with every slot taken, a frame whose pixels
// are corrupt waits for a slot (and times out) instead of being decoded, and
// once the slots are free the same frame is decoded and found corrupt. The
// image decode is what takes the memory (4 bytes a pixel for a colour PNG),
// so the slots bound it.
func TestDecodeSlotCoversImageDecode(t *testing.T) {
	var buf bytes.Buffer
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 31)
	}
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	corrupt := append(append([]byte(nil), raw[:60]...), bytes.Repeat([]byte{0xA5}, len(raw)-60)...)

	for range cap(decodeSlots) {
		decodeSlots <- struct{}{}
	}
	d := Decoder{Timeout: 10 * time.Millisecond}
	_, err := d.Decode(context.Background(), corrupt)
	for range cap(decodeSlots) {
		<-decodeSlots
	}
	if edge.ErrorCode(err) != string(edge.Unreadable) || !strings.Contains(edge.ErrorMessage(err), "too long") {
		t.Fatalf("slots full: %v, want UNREADABLE for waiting too long (the image decoded outside the slots?)", err)
	}
	_, err = new(Decoder).Decode(context.Background(), corrupt)
	if edge.ErrorCode(err) != string(edge.Unreadable) || !strings.Contains(edge.ErrorMessage(err), "corrupt") {
		t.Fatalf("slots free: %v, want UNREADABLE for a corrupt image", err)
	}
}
