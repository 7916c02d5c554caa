"""Sessions, access, uploads' quota, training jobs and the HTTP side of the server."""
