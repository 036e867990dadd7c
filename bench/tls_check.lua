-- wrk `response` hook for bench/tls's check: prints what the first response says the handshake
-- negotiated (the check server answers with nginx's $ssl_protocol, $ssl_cipher and $ssl_curve).
local printed = false
response = function(status, headers, body)
  if not printed then
    printed = true
    io.write("NEGOTIATED " .. body)
  end
end
