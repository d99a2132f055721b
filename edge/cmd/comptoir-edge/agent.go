package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/edge/journal"
	"github.com/comptoir/comptoir/printer"
	"github.com/comptoir/comptoir/scanner"
	"github.com/comptoir/comptoir/scanner/token"
	"github.com/comptoir/comptoir/sync/uplink"
	"github.com/comptoir/comptoir/sync/wire"
	"github.com/comptoir/comptoir/ui"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
)

// Main is the terminal agent: it wires the journal, the Desk, the scanner,
// the printers, the uplink and the kiosk server. Tests build one on port 0 in
// a temp dir and call Run, as cmd/comptoir-edge does.
type Main struct {
	Config Config
	Logger *slog.Logger
	Stdout io.Writer
	// Now is the counter's clock (the Desk's, the sign-in's, applied
	// commands'); the trusted clock (edge.TrustedClock) when nil, which the
	// agent never sets. Tests set it to put parcels on the shelf days ago,
	// which the trusted clock refuses once later operations are journalled.
	Now func() time.Time
	// Stderr receives flag errors and usage; os.Stderr when nil.
	Stderr io.Writer

	enrollment Enrollment
	journal    *journal.Journal
	trust      *token.TrustList
	desk       *edge.Desk
	signIn     *edge.SignIn
	commands   *edge.Commands
	// upkeepPolicy scrubs and compacts the journal (upkeep.go).
	upkeepPolicy *edge.Upkeep
	statusReport *edge.StatusReport
	clock        *edge.TrustedClock
	// clockWrong is the clock's wrongness last logged (noteClock).
	clockWrong atomic.Bool
	// journalEncrypted says whether a key was found for the journal.
	journalEncrypted bool
	// journalDamaged is where a journal that did not open at start was
	// kept; empty when it opened.
	journalDamaged string
	// wall is the system clock of the trusted clock; time.Now when nil.
	// Tests move it back and forward.
	wall    func() time.Time
	runner  *edge.PrintRunner
	uplink  *uplink.Uplink
	server  *ui.Server
	metrics *metrics

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewMain returns a Main with the default config.
func NewMain() *Main {
	return &Main{Config: DefaultConfig(), Logger: slog.Default(), Stdout: io.Discard}
}

// ParseFlags reads the flags of `comptoir-edge run` and the config file.
func (m *Main) ParseFlags(args []string) error {
	stderr := m.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	fs := newFlagSet("run", stderr)
	configPath := fs.String("config", "", "JSON config file")
	dir := fs.String("data", "", "data directory (default "+m.Config.DataDir+")")
	addr := fs.String("http", "", "kiosk and local API address (default "+m.Config.HTTPAddr+")")
	demo := fs.Bool("demo", false, "create demo staff: clerk PIN 1234, manager PIN "+demoManagerPIN)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "comptoir-edge run: unexpected argument %q\n", rest[0])
		fs.Usage()
		return usageError{fmt.Errorf("run: unexpected argument %q", rest[0])}
	}
	if *configPath != "" {
		if err := m.Config.ReadConfigFile(*configPath); err != nil {
			return err
		}
	}
	if *dir != "" {
		m.Config.DataDir = *dir
	}
	if *addr != "" {
		m.Config.HTTPAddr = *addr
	}
	m.Config.Demo = m.Config.Demo || *demo
	return m.Config.Validate()
}

func journalDir(dataDir string) string { return filepath.Join(dataDir, "journal") }

// openJournal opens the journal, or, when it is damaged, a new one in its
// place (journal.OpenRecovering), and returns where the damaged one is kept.
func openJournal(dir string, cfg journal.Config, log *slog.Logger) (*journal.Journal, string, error) {
	j, aside, damage, err := journal.OpenRecovering(dir, cfg)
	if aside != "" {
		log.Error("journal damaged: kept aside for recovery, a new journal started", "kept_at", aside, "err", damage)
	}
	return j, aside, err
}

// Run opens everything and starts the background loops and the server. It
// returns once the kiosk listens; Close stops it all.
func (m *Main) Run(ctx context.Context) (err error) {
	cfg := &m.Config
	log := m.Logger.With("component", "agent")
	if m.enrollment, err = readEnrollment(cfg.DataDir); err != nil {
		return err
	}
	tid := m.enrollment.Terminal
	if cfg.RelayPoint.ID == "" {
		cfg.RelayPoint.ID = tid
	}
	if cfg.RelayPoint.Name == "" {
		cfg.RelayPoint.Name = m.enrollment.Name
	}

	key, _, err := token.LoadOrCreateKey(filepath.Join(cfg.DataDir, receiptKeyFile), tid)
	if err != nil {
		return fmt.Errorf("receipt key: %w", err)
	}
	if m.trust, err = m.loadTrust(); err != nil {
		return err
	}
	jkey, err := journalKey(cfg.DataDir, cfg.JournalKeyFile, cfg.Demo, nil)
	if err != nil {
		return err
	}
	if jkey.key == nil {
		log.Warn("journal not encrypted: no key (systemd credential " + journalKeyCredential + " or journal_key_file)")
	}
	// A journal that no longer opens is kept aside and a new one started:
	// the counter takes deposits whatever happened to its disk.
	m.journal, m.journalDamaged, err = openJournal(journalDir(cfg.DataDir), journal.Config{
		Terminal: tid, Logger: m.Logger, DiskBudgetBytes: cfg.DiskBudgetBytes,
		MaxDataBytes: wire.MaxBatchBytes / 2, EncryptionKey: jkey.key,
	}, log)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if err := m.journal.SeqFloor(m.enrollment.SeqFloor); err != nil {
		return err
	}
	if m.journalEncrypted = jkey.key != nil; m.journalEncrypted {
		log.Info("journal encrypted", "key_from", jkey.from)
	}
	floor, err := m.journal.LastOperationTime(ctx)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	m.clock = edge.NewTrustedClock(floor)
	m.clock.Wall = m.wall
	if behind := m.clock.Behind(); behind > 0 {
		log.Warn("system clock behind the journal: running from the last operation's time", "behind", behind.String(), "last_operation", floor)
	}
	if cfg.Demo {
		if err := m.demoStaff(ctx); err != nil {
			return err
		}
	}

	m.metrics = newMetrics(m)
	printers := map[string]edge.Printer{}
	for _, name := range []string{edge.PrinterLabel, edge.PrinterReceipt} {
		p, err := printer.Open(cfg.printerURL(name))
		if err != nil {
			return fmt.Errorf("printer %s: %w", name, err)
		}
		printers[name] = p
	}
	m.runner = &edge.PrintRunner{
		Queue: m.journal, Printers: printers, Logger: m.Logger.With("component", "print"),
		Observe: m.metrics.observePrint,
	}

	m.uplink, err = uplink.New(uplink.Config{
		BrokerURL: m.enrollment.MQTT.URL, Terminal: tid,
		Username: m.enrollment.MQTT.Username, Password: m.enrollment.MQTT.Password,
		Version: Version, Logger: m.Logger, CloudTime: m.syncClock,
	}, m.journal)
	if err != nil {
		return fmt.Errorf("uplink: %w", err)
	}
	m.uplink.SetStatusFunc(m.wireStatus)
	m.uplink.OnTrust(m.applyTrust)
	m.uplink.OnCommand(m.applyCommand)

	m.desk = edge.NewDesk(cfg.Rules)
	m.desk.RelayPoint = cfg.RelayPoint
	now := m.clock.Now
	if m.Now != nil {
		now = m.Now
	}
	m.desk.Now = now
	m.desk.Journal = m.journal
	m.desk.Codes = &scanner.Reader{Trust: m.trust, Now: m.clock.Now}
	m.desk.Signer = token.ReceiptSigner{Key: key}
	m.desk.TimeSynced = m.clock.Synced
	m.desk.Renderer = cfg.Printing
	m.desk.Appended = func(op edge.Operation) {
		m.clock.Observe(op.OccurredAt)
		m.runner.Notify()
		m.uplink.Notify()
	}

	m.commands = &edge.Commands{
		Journal: m.journal, Desk: m.desk, Revoke: m.revoke, Now: now,
		Logger: m.Logger.With("component", "commands"),
		Appended: func(op edge.Operation) {
			m.clock.Observe(op.OccurredAt)
			m.uplink.Notify()
		},
	}
	m.upkeepPolicy = &edge.Upkeep{
		Journal: m.journal, Now: now, Logger: m.Logger.With("component", "upkeep"),
		Retention: time.Duration(cfg.Retention), HistoryRetention: time.Duration(cfg.HistoryRetention),
	}
	m.statusReport = &edge.StatusReport{
		Terminal: tid, Version: Version, Journal: m.journal, Printers: m.runner, Clock: m.clock,
		Online: m.uplink.Connected, DiskFree: func() uint64 { return diskFree(cfg.DataDir) },
		JournalDamaged: m.journalDamaged != "",
	}
	m.signIn = edge.NewSignIn(m.journal, m.journal, pinHasher)
	m.signIn.Logger = m.Logger.With("component", "signin")
	m.signIn.Now = now
	m.signIn.Observe = m.metrics.observeSignIn

	weigher, readScale, err := m.openScale()
	if err != nil {
		return err
	}
	m.server = ui.New(ui.Config{
		Addr: cfg.HTTPAddr, AllowedHosts: cfg.HTTPAllowedHosts, SessionIdle: time.Duration(cfg.SessionIdle), Version: Version, Logger: m.Logger,
	}, ui.Deps{
		Desk:    m.desk,
		SignIn:  m.signIn,
		Decoder: m.metrics.timeDecode(&scanner.Decoder{MaxPixels: cfg.MaxImagePixels}),
		Journal: m.journal, Prints: m.runner, QR: encodeQR, Preview: cfg.Printing,
		Status:  func(ctx context.Context) (any, error) { return m.status(ctx) },
		Metrics: m.metrics.handler(),
		Scale:   weigher,
	})
	if err := m.server.Open(); err != nil {
		return err
	}

	loopCtx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.wg.Add(3)
	go func() { defer m.wg.Done(); m.runner.Run(loopCtx) }()
	go func() { defer m.wg.Done(); m.upkeep(loopCtx) }()
	if readScale != nil {
		m.wg.Add(1)
		go func() { defer m.wg.Done(); readScale(loopCtx) }()
	}
	go func() {
		defer m.wg.Done()
		if err := m.uplink.Run(loopCtx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("uplink stopped", "error", err)
		}
	}()
	log.Info("terminal ready", "terminal", tid, "http", m.server.URL(), "broker", m.enrollment.MQTT.URL)
	return nil
}

// Close stops the loops, the server and the journal, in that order.
func (m *Main) Close() error {
	var errs []error
	if m.server != nil {
		errs = append(errs, m.server.Close())
	}
	if m.cancel != nil {
		m.cancel()
		m.wg.Wait()
	}
	if m.journal != nil {
		errs = append(errs, m.journal.Close())
		m.journal = nil
	}
	return errors.Join(errs...)
}

// URL is the kiosk's base URL.
func (m *Main) URL() string { return m.server.URL() }

// Terminal is the enrolled terminal id.
func (m *Main) Terminal() string { return m.enrollment.Terminal }

// demoManagerPIN is the demo manager's PIN: six digits, as every new
// manager's (edge.MinManagerPIN).
const demoManagerPIN = "999999"

func (m *Main) demoStaff(ctx context.Context) error {
	staff, err := m.journal.ListStaff(ctx)
	if err != nil || len(staff) > 0 {
		return err
	}
	if _, err := addStaff(ctx, m.journal, "Démo Clerc", edge.RoleClerk, "1234"); err != nil {
		return err
	}
	_, err = addStaff(ctx, m.journal, "Démo Gérant", edge.RoleManager, demoManagerPIN)
	return err
}

// loadTrust reads the trust list saved at enrolment or from the last
// retained trust message, so that codes verify offline from the first start.
func (m *Main) loadTrust() (*token.TrustList, error) {
	path := filepath.Join(m.Config.DataDir, trustFile)
	if _, err := os.Stat(path); os.IsNotExist(err) {
		m.Logger.Warn("no trust list yet: return codes will be refused until the cloud sends one", "path", path)
		return token.NewTrustList(), nil
	}
	t, err := token.LoadTrustFile(path)
	if err != nil {
		return nil, fmt.Errorf("trust list: %w", err)
	}
	return t, nil
}

// applyTrust replaces the trust list with the cloud's retained one and keeps
// it on disk for the next start.
func (m *Main) applyTrust(payload []byte) {
	if err := m.trust.LoadJWKS(payload); err != nil {
		m.Logger.Warn("trust list refused", "error", err)
		return
	}
	if err := writePrivate(filepath.Join(m.Config.DataDir, trustFile), payload); err != nil {
		m.Logger.Error("save trust list", "error", err)
	}
}

// applyCommand hands a cloud command to the edge.Commands use case.
func (m *Main) applyCommand(cmd wire.Command) {
	err := m.commands.Apply(context.Background(), edge.Command{
		ID: cmd.ID, Type: cmd.Type, Config: cmd.Config, Revocations: cmd.Revocations,
	})
	if err != nil && edge.ErrorCode(err) == edge.EINTERNAL {
		m.Logger.Error("command not applied", "command", cmd.ID, "error", err)
	}
}

// revoke adds revocations to the trust list and saves it. A failed save is
// logged, not returned: the revocation holds until the next start, and the
// cloud's retained trust list carries it again.
func (m *Main) revoke(raIDs []string) error {
	m.trust.Revoke(raIDs...)
	if err := writePrivate(filepath.Join(m.Config.DataDir, trustFile), m.trust.MarshalJWKS()); err != nil {
		m.Logger.Error("save trust list", "error", err)
	}
	return nil
}

// Status is the body of GET /api/status (edge.StatusReport).
type Status = edge.TerminalStatus

func (m *Main) status(ctx context.Context) (Status, error) { return m.statusReport.Status(ctx) }

func (m *Main) wireStatus() wire.Status {
	st, err := m.status(context.Background())
	if err != nil {
		m.Logger.Warn("status", "error", err)
	}
	return wire.Status{
		Version: Version, OutboxPending: st.OutboxPending, OutboxOldestAgeS: st.OutboxOldestAgeS,
		Printers: st.Printers, DiskFreeBytes: st.DiskFreeBytes, Shelf: st.Shelf,
		DiskWarning: st.DiskWarning, ClockUnsynced: !st.ClockSynced, ClockWrong: st.ClockWrong,
		// Dated by the counter's clock, not the system's: a clock that
		// restarted in the past would make the cloud refuse the status.
		At: m.clock.Now(),
	}
}

// syncClock gives the cloud's time of an ack to the trusted clock (on
// paho's goroutine: quick).
func (m *Main) syncClock(at time.Time) {
	m.clock.Sync(at)
	m.noteClock()
}

// noteClock logs when the system clock is found wrong (behind the last
// operation or off the cloud's time) or right again: after an ack, and on
// the upkeep's checks, so a clock set back under the running agent is
// said within seconds.
func (m *Main) noteClock() {
	st := m.clock.State()
	if wrong := st.Wrong(); m.clockWrong.Swap(wrong) != wrong {
		log := m.Logger.With("component", "clock")
		switch {
		case wrong && st.Behind > 0:
			log.Warn("system clock behind: the counter runs from its last operation or the cloud's time", "behind", st.Behind.String(), "synced", st.Synced)
		case wrong:
			log.Warn("system clock off the cloud's time", "skew", st.Skew.String(), "synced", st.Synced)
		default:
			log.Info("system clock right again", "synced", st.Synced)
		}
	}
}

func diskFree(dir string) uint64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0
	}
	return st.Bavail * uint64(st.Bsize)
}

// encodeQR draws text as a QR code PNG of about size pixels, error
// correction M, with a quiet zone, in a mask that reads back
// (token.QRMatrix).
func encodeQR(text string, size int) ([]byte, error) {
	m, err := token.QRMatrix(text, decoder.ErrorCorrectionLevel_M)
	if err != nil {
		return nil, err
	}
	const quiet = 4
	px := max(1, size/(m.GetWidth()+2*quiet))
	var buf bytes.Buffer
	if err := png.Encode(&buf, token.QRImage(m, px, quiet)); err != nil {
		return nil, fmt.Errorf("qr: %w", err)
	}
	return buf.Bytes(), nil
}
