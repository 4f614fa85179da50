file(READ ${IN} CONTENT)
file(WRITE ${OUT} "// Generated from openapi.json. Do not edit.\nnamespace causeloop::http::api {\nextern const char* const kOpenApiJson;\nconst char* const kOpenApiJson = R\"OPENAPI(${CONTENT})OPENAPI\";\n}\n")
