#!/usr/bin/env Rscript
# Writes the six Jane Austen novels carried by Debian's r-cran-janeaustenr (janeaustenr 1.0.0, MIT) as plain
# UTF-8 text, one file per novel: each character vector (one element per line) joined with newlines.
# Run from data/text:  Rscript make-austen.R   (needs: apt-get install r-cran-janeaustenr)
library(janeaustenr)
books <- c("sense-and-sensibility" = "sensesensibility", "pride-and-prejudice" = "prideprejudice",
           "mansfield-park" = "mansfieldpark", "emma" = "emma",
           "northanger-abbey" = "northangerabbey", "persuasion" = "persuasion")
for (file in names(books)) {
  lines <- enc2utf8(get(books[[file]], envir = asNamespace("janeaustenr")))
  con <- file(paste0(file, ".txt"), open = "wb")
  writeBin(charToRaw(paste0(paste(lines, collapse = "\n"), "\n")), con)
  close(con)
}
