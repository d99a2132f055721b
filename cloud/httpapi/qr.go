package httpapi

import "github.com/comptoir/comptoir/scanner/token"

// QRPNG returns a PNG of the QR code of text, in a mask that reads back:
// token.QRPNG, shared with the kiosk, the printers' previews and the demo.
func QRPNG(text string) ([]byte, error) { return token.QRPNG(text) }
