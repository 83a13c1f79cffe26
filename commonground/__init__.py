"""Common Ground: Professional Practice Committees with access-to-care evidence."""
