package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/cloud/server"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

func TestDemoReturn(t *testing.T) {
	dir := t.TempDir()
	m := server.NewMain()
	if err := m.ParseFlags([]string{"--data", dir, "--http", "127.0.0.1:0", "--mqtt-listen", "127.0.0.1:0", "--demo"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	var out bytes.Buffer
	if err := demoReturnCmd([]string{"--cloud", m.HTTPURL(), "--data", dir}, &out); err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && !strings.ContainsAny(k, "█▀▄") {
			fields[k] = strings.TrimSpace(v)
		}
	}
	if fields["tracking"] == "" || fields["token"] == "" || !strings.Contains(out.String(), "█") {
		t.Fatalf("output lacks tracking, token or QR art:\n%s", out.String())
	}
	path := filepath.Join(dir, "demo-returns", fields["tracking"]+".png")
	if !strings.Contains(out.String(), path) {
		t.Errorf("output does not name the PNG %s", path)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil || res.GetText() != fields["token"] {
		t.Fatalf("PNG decodes to %v (%v), want the printed token", res, err)
	}
}
