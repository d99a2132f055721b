package ui

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"strings"
	"sync"

	"github.com/comptoir/comptoir/edge"
	"github.com/gofiber/fiber/v2"
)

// decodeJSON decodes the request's body, one JSON value of type
// application/json with no unknown field and nothing after it, into v.
func decodeJSON(c *fiber.Ctx, v any) error {
	if err := requireJSON(c); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errBadJSON(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return edge.Errorf(edge.EINVALID, "Malformed JSON: data after the JSON value.")
	}
	return nil
}

func (s *Server) postSession(c *fiber.Ctx) error {
	var req struct {
		PIN string `json:"pin"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	st, err := s.deps.SignIn.SignIn(ctxOf(c), req.PIN)
	if err != nil {
		return err
	}
	id, sess := s.sessions.open(st)
	c.Cookie(&fiber.Cookie{
		Name: cookieName, Value: id, Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode,
	})
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"staff": sessionJSON(sess), "kiosk": s.kioskJSON()})
}

// kioskJSON is what the kiosk's script needs to know of the counter: when to
// lock itself (the session's idle time) and the limits it shows the clerk.
func (s *Server) kioskJSON() fiber.Map {
	r := s.deps.Desk.Rules()
	return fiber.Map{
		"idle_s": int(s.cfg.SessionIdle.Seconds()), "max_weight_g": r.MaxWeightG,
		"shelf_capacity": r.ShelfCapacity, "cancel_grace_s": int(r.CancelGrace.Seconds()),
		"scale": s.deps.Scale != nil,
	}
}

func sessionJSON(s Session) fiber.Map {
	return fiber.Map{"id": s.StaffID, "name": s.Name, "role": s.Role}
}

func (s *Server) getSession(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"staff": sessionJSON(session(c)), "kiosk": s.kioskJSON()})
}

// postUnlock lifts the sign-in lock, from a manager's session.
func (s *Server) postUnlock(c *fiber.Ctx) error {
	sess := session(c)
	if err := s.deps.SignIn.Unlock(ctxOf(c), sess.StaffID, sess.Role); err != nil {
		return err
	}
	return s.getSignInLock(c)
}

// getSignInLock tells a manager whether the sign-in is locked.
func (s *Server) getSignInLock(c *fiber.Ctx) error {
	until, failures, err := s.deps.SignIn.Status(ctxOf(c))
	if err != nil {
		return err
	}
	lock := fiber.Map{"locked": !until.IsZero(), "failures": failures}
	if !until.IsZero() {
		lock["locked_until"] = until
	}
	return c.JSON(fiber.Map{"lock": lock})
}

func (s *Server) deleteSession(c *fiber.Ctx) error {
	s.sessions.signOut(c.Cookies(cookieName))
	c.ClearCookie(cookieName)
	return c.SendStatus(fiber.StatusNoContent)
}

// scanAnswer is the body of /api/scan and /api/scan/image.
type scanAnswer struct {
	Kind     edge.CodeKind      `json:"kind"`
	Eligible bool               `json:"eligible"`
	Refusals []edge.RefusalCode `json:"refusals"`
	Code     edge.Code          `json:"code"`
	Text     string             `json:"text,omitempty"`
	Symbols  []edge.Symbol      `json:"symbols"`
}

func answer(chk edge.Check, text string, symbols []edge.Symbol) scanAnswer {
	if chk.Refusals == nil {
		chk.Refusals = []edge.RefusalCode{}
	}
	if symbols == nil {
		symbols = []edge.Symbol{}
	}
	return scanAnswer{Kind: chk.Kind, Eligible: chk.Eligible, Refusals: chk.Refusals, Code: chk.Code, Text: text, Symbols: symbols}
}

func (s *Server) postScan(c *fiber.Ctx) error {
	var req struct {
		Code string `json:"code"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	chk, _, err := s.deps.Desk.Scan(ctxOf(c), edge.ScanRequest{Texts: []string{req.Code}, Operator: session(c).StaffID})
	if err != nil {
		return err
	}
	return c.JSON(answer(chk, "", nil))
}

// postScanImage decodes a camera frame and checks its symbols (edge.Desk's
// Scan: the first eligible code, else the first one, whose refusal is
// journalled). The decoded text is returned so that the kiosk can deposit
// it.
func (s *Server) postScanImage(c *fiber.Ctx) error {
	if err := readBody(c, s.cfg.MaxImageBytes); err != nil {
		return err
	}
	img := c.Body()
	if strings.HasPrefix(string(c.Request().Header.ContentType()), "multipart/form-data") {
		var err error
		if img, err = formImage(c); err != nil {
			return err
		}
	}
	symbols, err := s.deps.Decoder.Decode(ctxOf(c), img)
	if err != nil && edge.ErrorCode(err) != string(edge.Unreadable) {
		return err
	}
	texts := make([]string, len(symbols))
	for i, sym := range symbols {
		texts[i] = sym.Text
	}
	chk, i, err := s.deps.Desk.Scan(ctxOf(c), edge.ScanRequest{Texts: texts, Operator: session(c).StaffID})
	if err != nil {
		return err
	}
	if i < 0 {
		return c.JSON(answer(chk, "", nil))
	}
	return c.JSON(answer(chk, texts[i], symbols))
}

func (s *Server) postDeposit(c *fiber.Ctx) error {
	var req struct {
		Code    string `json:"code"`
		WeightG int    `json:"weight_g"`
		DimsMM  []int  `json:"dims_mm"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	dep, err := s.deps.Desk.Deposit(ctxOf(c), edge.DepositRequest{
		Code: req.Code, WeightG: req.WeightG, DimsMM: req.DimsMM, Operator: session(c).StaffID,
	})
	if err != nil {
		return err
	}
	s.receipts.put(dep.Receipt.ID, dep.ReceiptToken)
	deposit := fiber.Map{
		"id": dep.Operation.ID, "seq": dep.Operation.Seq, "tracking": dep.Operation.Tracking,
		"occurred_at": dep.Operation.OccurredAt, "operator": dep.Operation.Operator,
		"ra_id": dep.Data.RAID, "carrier": dep.Data.Carrier, "verified": dep.Data.Verified,
		"mode": dep.Data.Mode, "weight_g": dep.Data.WeightG, "dims_mm": dep.Data.DimsMM,
		"shelf_slot": dep.Data.ShelfSlot, "items": dep.Data.Items,
	}
	receipt := fiber.Map{
		"id": dep.Receipt.ID, "token": dep.ReceiptToken,
		// Whether the receipt's time agreed with the cloud's (also in the
		// token's claims and printed on the receipt).
		"time_synced": dep.Receipt.TimeSynced,
		"png_url":     "/api/receipts/" + dep.Receipt.ID + "/qr.png",
		"escpos_url":  "/api/print-jobs/" + dep.ReceiptJob + "/data",
		"job_id":      dep.ReceiptJob,
		// A picture of the printed receipt, drawn on request.
		"preview_url": "/api/print-jobs/" + dep.ReceiptJob + "/preview.png",
	}
	var label any
	if dep.LabelJob != "" {
		label = fiber.Map{
			"job_id":  dep.LabelJob,
			"zpl_url": "/api/print-jobs/" + dep.LabelJob + "/data",
			// Drawn on request, so that a deposit does not wait for them.
			"png_url": "/api/print-jobs/" + dep.LabelJob + "/preview.png",
			"pdf_url": "/api/print-jobs/" + dep.LabelJob + "/label.pdf",
		}
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"deposit": deposit, "receipt": receipt, "label": label})
}

// getReceiptQR draws the receipt token as a QR for customers who want no
// paper. Tokens of the last deposits are kept in memory only.
func (s *Server) getReceiptQR(c *fiber.Ctx) error {
	token, ok := s.receipts.get(c.Params("id"))
	if !ok {
		return edge.Errorf(edge.ENOTFOUND, "No recent receipt with that id: reprint the receipt instead.")
	}
	// One pixel per module: the kiosk scales it by a whole number of
	// screen pixels, which keeps every module sharp for a phone's camera.
	png, err := s.deps.QR(token, 0)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/png")
	return c.Send(png)
}

func (s *Server) getPrintJobData(c *fiber.Ctx) error {
	job, err := s.deps.Journal.PrintJob(ctxOf(c), c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/octet-stream")
	if job.Format == edge.FormatZPL {
		c.Set(fiber.HeaderContentType, "text/plain; charset=utf-8")
	}
	return c.Send(job.Data)
}

// getPrintJobPreview draws a PNG of what the job prints, from its bytes.
func (s *Server) getPrintJobPreview(c *fiber.Ctx) error {
	if s.deps.Preview == nil {
		return edge.Errorf(edge.ENOTFOUND, "Print previews are not available.")
	}
	job, err := s.deps.Journal.PrintJob(ctxOf(c), c.Params("id"))
	if err != nil {
		return err
	}
	png, err := s.deps.Preview.Preview(job.Format, job.Data)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/png")
	c.Set(fiber.HeaderCacheControl, "private, max-age=3600") // a job's bytes never change
	return c.Send(png)
}

// getPrintJobPDF answers an A4 PDF of a label job, for office printers.
func (s *Server) getPrintJobPDF(c *fiber.Ctx) error {
	if s.deps.Preview == nil {
		return edge.Errorf(edge.ENOTFOUND, "Print previews are not available.")
	}
	job, err := s.deps.Journal.PrintJob(ctxOf(c), c.Params("id"))
	if err != nil {
		return err
	}
	if job.Format != edge.FormatZPL {
		return edge.Errorf(edge.ENOTFOUND, "Only labels have a PDF.")
	}
	pdf, err := s.deps.Preview.LabelPDF(job.Data)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `inline; filename="label-`+job.ID+`.pdf"`)
	return c.Send(pdf)
}

func (s *Server) postPrintRetry(c *fiber.Ctx) error {
	job, err := s.deps.Prints.Retry(ctxOf(c), c.Params("id"))
	if err != nil {
		return err
	}
	job.Data = nil
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"job": job})
}

func (s *Server) getStatus(c *fiber.Ctx) error {
	st, err := s.deps.Status(ctxOf(c))
	if err != nil {
		return err
	}
	return c.JSON(st)
}

// recentReceipts keeps the tokens of the last deposits so that the kiosk can
// show the receipt as a QR code without paper.
type recentReceipts struct {
	mu    sync.Mutex
	max   int
	order []string
	m     map[string]string
}

func newRecentReceipts(max int) *recentReceipts {
	return &recentReceipts{max: max, m: map[string]string{}}
}

func (r *recentReceipts) put(id, token string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.order) >= r.max {
		delete(r.m, r.order[0])
		r.order = r.order[1:]
	}
	r.order = append(r.order, id)
	r.m[id] = token
}

func (r *recentReceipts) get(id string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.m[id]
	return t, ok
}

// formImage returns the image of an upload from an HTML form or `curl -F`:
// the file of field "image", else the form's only file. The kiosk sends the
// image as the body; a form used to be read as an unreadable image.
func formImage(c *fiber.Ctx) ([]byte, error) {
	form, err := c.MultipartForm()
	if err != nil {
		return nil, edge.Errorf(edge.EINVALID, "Malformed multipart form: %v", err)
	}
	files := form.File["image"]
	if len(files) == 0 {
		var all []*multipart.FileHeader
		for _, fs := range form.File {
			all = append(all, fs...)
		}
		if len(all) != 1 {
			return nil, edge.Errorf(edge.EINVALID, "The form has %d files: send the image as the request body, or as the file field \"image\".", len(all))
		}
		files = all
	}
	f, err := files[0].Open()
	if err != nil {
		return nil, edge.Errorf(edge.EINVALID, "Form file: %v", err)
	}
	defer f.Close()
	return io.ReadAll(f)
}
