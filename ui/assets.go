package ui

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
)

// static holds the kiosk's page, script and style: everything the screen
// needs is in the binary, so it works with the network cable pulled.
//
//go:embed assets
var static embed.FS

func (s *Server) assets(app *fiber.App) {
	sub, err := fs.Sub(static, "assets")
	if err != nil {
		panic(err)
	}
	app.Use("/", filesystem.New(filesystem.Config{Root: http.FS(sub), Index: "index.html"}))
}
