// keyward's progressive enhancements. Everything works without this file.
"use strict";
