package server_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/comptoir/comptoir/cloud/server"
)

// A whole cloud in-process, as an end-to-end test starts it: free ports,
// a temporary data directory, demo API keys.
func ExampleMain() {
	dir, err := os.MkdirTemp("", "cloud")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	m := server.NewMain()
	if err := m.ParseFlags([]string{"serve", "--data", dir, "--http", "127.0.0.1:0", "--mqtt-listen", "127.0.0.1:0", "--demo"}); err != nil {
		log.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil { // returns once listening
		log.Fatal(err)
	}
	defer m.Close()

	issuer, operator, _ := m.Demo()
	// Enrol a terminal: POST m.HTTPURL()+"/v1/terminals" with the operator
	// key; its answer carries the MQTT URL (m.MQTTURL()) and credentials.
	// Create a return: POST m.HTTPURL()+"/v1/returns" with the issuer key.
	fmt.Println(m.HTTPURL() != "", m.MQTTURL() != "", issuer != "", operator != "")
	// Output: true true true true
}
