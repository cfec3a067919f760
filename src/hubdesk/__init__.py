"""hubdesk: a helpdesk whose heart turns incoming email into tickets."""

__version__ = "0.1.0"
