"""The demo website (Northwind Broadband — your bill) with the chat widget; served by the web server."""
