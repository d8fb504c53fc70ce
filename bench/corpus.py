#!/usr/bin/env python3
"""corpus.py: the deterministic test corpus of bench/run.

A medical practice's data, generated from fixed seeds, byte for byte the same
on every run and every machine with the same Debian packages (dcmtk writes
its version into each DICOM file's meta header):

  practice/imagerie/   real CT (Debian's invesalius-examples, Cranium.inv3)
                       as one DICOM file per slice, 512x512 16-bit, several
                       studies of fake patients, each shifted, cropped,
                       rescaled and with its own noise
  practice/documents/  letters (text), reports (PDF with text), scanned
                       letters (PDF with a noise image)
  practice/photos/     incompressible JPEG-sized files (2-6 MB)
  practice/logiciel/   the practice software's SQL dump (CREATE TABLE +
                       INSERT lines: patients, appointments, invoices, notes)

and the "next day": day2/ holds the files to add or replace (a new study,
new documents and photos, the SQL dump with ~1% of its lines changed in the
middle and rows appended), day2-touch.txt the files whose mtime changes
with the same content.

  corpus.py generate --scale full|quick --variant N --ct Cranium.inv3 DIR
  corpus.py apply-day2 CORPUSDIR TREE
  corpus.py manifest [--out FILE] DIR      prints the manifest's digest
  corpus.py compare MANIFEST DIR           exit 1 and say why if different
  corpus.py verify --scale S [--variant N] CORPUSDIR   digest, or exit 1
  corpus.py reference --scale S [--variant N]          the known digest

Randomness: random.Random(seed).random() (whose sequence Python keeps stable
across versions) for choices, SHAKE-256 for bulk bytes, integer arithmetic
only on pixels.
"""

import argparse
import concurrent.futures
import hashlib
import io
import json
import os
import plistlib
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile

try:
    import numpy as np
except ImportError:  # checked where needed, with a message
    np = None

VERSION = 1
MiB = 1 << 20

# Bytes per kind, and CT slices per study.
SCALES = {
    "full": dict(dicom=500 * MiB, docs=50 * MiB, photos=200 * MiB,
                 sql=300 * MiB, slices=(80, 108)),
    "quick": dict(dicom=50 * MiB, docs=5 * MiB, photos=20 * MiB,
                  sql=30 * MiB, slices=(36, 52)),
}

# The corpus digest (corpus.py verify) of each (scale, variant) as made on
# Debian 12 (python3 3.11, numpy 1.24, dcmtk 3.6.7); another digest means
# the corpus is not the one measured elsewhere.
REFERENCE = {
    ("full", 0): "f1cda81d32c5603adccdbfcc708a9f14"
                 "a6912cdf8623460f3ecb92d53f5f6f34",
    ("full", 1): "c227b0a77dbefeab598be8d4a2a254a0"
                 "8700279879b8bc0a3e492b136d235702",
    ("full", 2): "b71d942a19b77228cf24a5e178c0d9bd"
                 "e84e49613c7f93872be16cd6bf936aa4",
    ("full", 3): "05dfa6dbfbe3fcd8fe38a8e1b9508a40"
                 "4b26367ca51babfffdcdd259b2b67baf",
    ("quick", 0): "e5e930f46d88f65f0d8c5b12353417cf"
                  "7f279790e609bf719fb8d4888782269c",
    ("quick", 1): "68cccd9188f06ed1a13d7864a9a7fc15"
                  "e38c889094e4e6083dddcbd9becfe5ea",
    ("quick", 2): "6aefb47bc16f476f860f398c64ccaa49"
                  "6a5016eb0cdd62eee3de2b5804f9a05c",
    ("quick", 3): "1eef0711959728a2c606136659ffd896"
                  "c1e994b9989586fbda1a48854ea7161d",
}

# Fixed times (seconds since the epoch, UTC) for mtimes.
DAY1 = 1717200000          # 2024-06-01 00:00 UTC
DAY2 = DAY1 + 86400 + 7 * 3600

# ----------------------------------------------------------------- helpers


class Rng:
    """Choices from random.Random(seed).random() only (stable sequence)."""

    def __init__(self, *seed):
        self.r = random.Random(int.from_bytes(
            hashlib.sha256(repr(seed).encode()).digest()[:8], "big"))
        self.f = self.r.random

    def below(self, n):
        return int(self.f() * n)

    def between(self, lo, hi):
        return lo + int(self.f() * (hi - lo + 1))

    def pick(self, seq):
        return seq[int(self.f() * len(seq))]

    def chance(self, p):
        return self.f() < p


def shake(n, *seed):
    return hashlib.shake_256(repr(("coffre-bench", VERSION) + seed)
                             .encode()).digest(n)


def uid(*parts):
    """A DICOM UID under 2.25 (a UUID as a decimal), from a hash."""
    h = hashlib.sha256(repr(parts).encode()).digest()[:16]
    return "2.25." + str(int.from_bytes(h, "big") >> 1)


def write(path, data, mtime):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.utime(path, (mtime, mtime))


def die(msg):
    print("corpus.py: " + msg, file=sys.stderr)
    sys.exit(1)


FIRST_F = ("Jeanne Marie Camille Léa Chloé Manon Inès Sarah Emma Louise "
           "Alice Juliette Anne Catherine Sophie Nathalie Isabelle Sylvie "
           "Christine Martine Monique Françoise Hélène Claire Élise Agnès "
           "Céline Laure Margaux Zoé").split()
FIRST_M = ("Paul Jean Pierre Louis Lucas Hugo Gabriel Arthur Jules Adam "
           "Nicolas Thomas Julien Antoine Philippe Michel Alain Bernard "
           "Patrick Jacques François Daniel Éric Olivier Laurent Stéphane "
           "Mathieu Rémi Yves Gérard").split()
LAST = ("Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy "
        "Moreau Simon Laurent Lefebvre Michel Garcia David Bertrand Roux "
        "Vincent Fournier Morel Girard André Lefèvre Mercier Dupont Lambert "
        "Bonnet François Martinez Legrand Garnier Faure Rousseau Blanc "
        "Guérin Muller Henry Roussel Nicolas Perrin Morin Mathieu Clément "
        "Gauthier Dumont Lopez Fontaine Chevalier Robin Masson Sanchez "
        "Gérard Nguyen Boyer Denis Lemaire Duval Joly Gautier Roger Roche "
        "Roy Noël Meyer Lucas Meunier Jean Perez Marchand Dufour Blanchard "
        "Marie Barbier Brun Dumas Brunet Schmitt Leroux Colin Fernandez "
        "Pierre Renard Arnaud Rolland Caron Aubert Giraud Leclerc Vidal "
        "Bourgeois Renaud Lemoine Picard Gaillard Philippe Leclercq Lacroix "
        "Fabre Dupuis Olivier Rodriguez Da-Silva Hubert Louis "
        "Charles Guillot Rivière Le-Gall Guillaume Adam Rey Moulin Gonzalez "
        "Berger Lecomte Ménard Fleury Deschamps Carpentier Julien Benoît "
        "Paris Maillard Marchal Aubry Vasseur Le-Roux Renault Jacquet "
        "Collet Prévost Poirier Charpentier Royer Huet Baron Dupuy Pons "
        "Paul Laine Carré Breton Rémy Schneider Perrot Guyot Barre Marty "
        "Cousin").split()
CITIES = [("Lyon", "69003"), ("Villeurbanne", "69100"), ("Vénissieux",
          "69200"), ("Bron", "69500"), ("Caluire-et-Cuire", "69300"),
          ("Écully", "69130"), ("Oullins", "69600"), ("Tassin", "69160"),
          ("Décines", "69150"), ("Meyzieu", "69330"), ("Vaulx-en-Velin",
          "69120"), ("Saint-Priest", "69800"), ("Rillieux", "69140"),
          ("Villefranche", "69400"), ("Givors", "69700")]
STREETS = ("rue Victor Hugo|avenue Jean Jaurès|rue de la République|"
           "boulevard des Belges|rue Garibaldi|cours Lafayette|rue Paul Bert|"
           "avenue Berthelot|rue de Créqui|chemin des Vignes|impasse des "
           "Lilas|rue du Moulin|place Bellecour|rue Pasteur|allée des "
           "Tilleuls|rue Édouard Herriot|quai Claude Bernard|rue Duguesclin|"
           "montée de la Grande Côte|rue des Écoles").split("|")
PRACTITIONERS = ["Dr Claire Fontaine", "Dr Marc Levasseur",
                 "Dr Agnès Perrin", "Dr Hugo Bastide"]


def person(rng):
    sex = "F" if rng.chance(0.52) else "M"
    first = rng.pick(FIRST_F if sex == "F" else FIRST_M)
    last = rng.pick(LAST)
    if rng.chance(0.08):
        last = last + "-" + rng.pick(LAST)
    y = rng.between(1932, 2020)
    m = rng.between(1, 12)
    d = rng.between(1, 28)
    return dict(sex=sex, first=first, last=last, birth=(y, m, d))


def strip_accents(s):
    table = str.maketrans("ÀÂÄÇÉÈÊËÎÏÔÖÙÛÜàâäçéèêëîïôöùûü",
                          "AAACEEEEIIOOUUUaaaceeeeiioouuu")
    return s.translate(table)


# -------------------------------------------------------------- text bank

SENTENCES = [
    "Je vous remercie de m'avoir adressé {p}, {age} ans, pour {motif}.",
    "{P} présente depuis {n} jours {symptome}, sans fièvre associée.",
    "Antécédents : {atcd}. Traitement habituel : {ttt}.",
    "L'examen clinique retrouve {examen}.",
    "La tension artérielle est à {ta1}/{ta2} mmHg, la fréquence cardiaque à "
    "{fc} battements par minute, la saturation à {sat} % en air ambiant.",
    "Le bilan biologique du {date} montre une hémoglobine à {hb} g/dL, une "
    "créatinine à {creat} µmol/L et une CRP à {crp} mg/L.",
    "Le scanner du {date} ne montre pas de lésion évolutive.",
    "Je propose de poursuivre {ttt} et de revoir {p} dans {n} semaines.",
    "Une consultation de contrôle est programmée le {date}.",
    "Je reste à votre disposition pour tout renseignement complémentaire.",
    "Au total, {conclusion}.",
    "{P} a été informé(e) des bénéfices et des risques du traitement proposé "
    "et a donné son accord.",
    "L'évolution est favorable, avec une nette diminution de {symptome}.",
    "Il n'y a pas d'indication chirurgicale à ce stade.",
    "Une radiographie panoramique a été réalisée ce jour.",
    "Prescription : {ttt}, pendant {n} jours, puis réévaluation.",
    "Le patient signale une allergie à {allergie}.",
    "Conduite à tenir : surveillance clinique, arrêt de travail de {n} jours.",
]
FILL = dict(
    motif=["une douleur thoracique atypique", "un bilan de céphalées",
           "une lombalgie chronique", "un suivi de diabète de type 2",
           "une douleur molaire", "un nodule thyroïdien",
           "une dyspnée d'effort", "des vertiges positionnels",
           "un bilan pré-opératoire", "une gonalgie droite"],
    symptome=["une toux sèche", "des douleurs abdominales",
              "une asthénie marquée", "des céphalées matinales",
              "une douleur à la mastication", "des palpitations",
              "une gêne respiratoire", "des troubles du sommeil"],
    atcd=["hypertension artérielle", "appendicectomie en 1998",
          "diabète de type 2", "asthme dans l'enfance", "aucun",
          "fracture du poignet gauche", "hypothyroïdie substituée",
          "dyslipidémie"],
    ttt=["paracétamol 1 g trois fois par jour", "amoxicilline 1 g matin et "
         "soir", "ramipril 5 mg", "metformine 850 mg deux fois par jour",
         "lévothyroxine 75 µg", "ibuprofène 400 mg si besoin",
         "bains de bouche à la chlorhexidine", "kinésithérapie"],
    examen=["un abdomen souple et indolore", "une auscultation normale",
            "une percussion positive sur la 46", "un examen neurologique "
            "normal", "une légère sensibilité épigastrique",
            "des mollets souples et indolores"],
    conclusion=["tableau rassurant", "évolution favorable sous traitement",
                "pas d'argument pour une pathologie grave",
                "indication d'un traitement endodontique",
                "bilan complémentaire à prévoir"],
    allergie=["la pénicilline", "l'aspirine", "l'iode", "aucun produit "
              "connu", "le latex"],
)


def fill_sentence(rng, who, date):
    s = rng.pick(SENTENCES)
    out = []
    i = 0
    while True:
        j = s.find("{", i)
        if j < 0:
            out.append(s[i:])
            break
        k = s.index("}", j)
        out.append(s[i:j])
        key = s[j + 1:k]
        if key == "p":
            v = who
        elif key == "P":
            v = who[0].upper() + who[1:]
        elif key == "age":
            v = str(rng.between(4, 91))
        elif key == "n":
            v = str(rng.between(2, 21))
        elif key == "date":
            v = "%02d/%02d/%d" % (rng.between(1, 28), rng.between(1, 12),
                                  date[0])
        elif key in ("ta1", "ta2", "fc", "sat", "hb", "creat", "crp"):
            v = {"ta1": lambda: str(rng.between(105, 165)),
                 "ta2": lambda: str(rng.between(60, 95)),
                 "fc": lambda: str(rng.between(52, 110)),
                 "sat": lambda: str(rng.between(92, 100)),
                 "hb": lambda: "%d,%d" % (rng.between(10, 16),
                                          rng.below(10)),
                 "creat": lambda: str(rng.between(45, 140)),
                 "crp": lambda: str(rng.between(0, 80))}[key]()
        else:
            v = rng.pick(FILL[key])
        out.append(v)
        i = k + 1
    return "".join(out)


def letter_text(rng, pat, date, kind):
    who = "%s %s %s" % ("Mme" if pat["sex"] == "F" else "M.",
                        pat["first"], pat["last"])
    doc = rng.pick(PRACTITIONERS)
    city, _ = rng.pick(CITIES)
    lines = [doc, "Cabinet médical des Tilleuls",
             "12 allée des Tilleuls, 69003 Lyon", "",
             "%s, le %02d/%02d/%d" % (city, date[2], date[1], date[0]), "",
             "Objet : %s de %s, né(e) le %02d/%02d/%d" % (
                 kind, who, pat["birth"][2], pat["birth"][1],
                 pat["birth"][0]), "", "Cher confrère,", ""]
    for _ in range(rng.between(3, 9)):
        par = " ".join(fill_sentence(rng, who, date)
                       for _ in range(rng.between(2, 6)))
        lines.append(par)
        lines.append("")
    lines += ["Bien confraternellement,", "", doc]
    return "\n".join(lines) + "\n"


def wrap(text, width=92):
    out = []
    for par in text.split("\n"):
        while len(par) > width:
            k = par.rfind(" ", 0, width)
            if k <= 0:
                k = width
            out.append(par[:k])
            par = par[k:].lstrip()
        out.append(par)
    return out


# -------------------------------------------------------------------- PDF

def pdf_escape(s):
    return (s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            .encode("cp1252", "replace"))


def pdf_document(pages, title, image=None):
    """A valid PDF: pages is a list of lists of text lines; image, if set,
    is (width, height, gray bytes) drawn full-page on one extra page."""
    objs = []  # bytes of objects 1..n

    def add(b):
        objs.append(b)
        return len(objs)

    catalog = add(b"")
    pages_obj = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
               b"/Encoding /WinAnsiEncoding >>")
    info = add(b"<< /Title (" + pdf_escape(title) + b") /Producer "
               b"(Cabinet medical des Tilleuls) /CreationDate "
               b"(D:20240601100000+02'00') >>")
    kids = []
    for lines in pages:
        body = [b"BT /F1 10 Tf 13 TL 56 790 Td"]
        for ln in lines:
            body.append(b"(" + pdf_escape(ln) + b") Tj T*")
        body.append(b"ET")
        content = b"\n".join(body) + b"\n"
        c = add(b"<< /Length %d >>\nstream\n" % len(content) + content +
                b"endstream")
        kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox "
                        b"[0 0 595 842] /Resources << /Font << /F1 %d 0 R "
                        b">> >> /Contents %d 0 R >>" % (pages_obj, font, c)))
    if image is not None:
        w, h, data = image
        im = add(b"<< /Type /XObject /Subtype /Image /Width %d /Height %d "
                 b"/ColorSpace /DeviceGray /BitsPerComponent 8 /Length %d "
                 b">>\nstream\n" % (w, h, len(data)) + data +
                 b"\nendstream")
        draw = b"q 595 0 0 842 0 0 cm /Im1 Do Q\n"
        c = add(b"<< /Length %d >>\nstream\n" % len(draw) + draw +
                b"endstream")
        kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox "
                        b"[0 0 595 842] /Resources << /XObject << /Im1 %d "
                        b"0 R >> >> /Contents %d 0 R >>" % (pages_obj, im,
                                                            c)))
    objs[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
    objs[pages_obj - 1] = (b"<< /Type /Pages /Kids [" +
                           b" ".join(b"%d 0 R" % k for k in kids) +
                           b"] /Count %d >>" % len(kids))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, b in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + b + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for o in offsets:
        out.write(b"%010d 00000 n \n" % o)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\n"
              b"startxref\n%d\n%%%%EOF\n" % (len(objs) + 1, catalog, info,
                                             xref))
    return out.getvalue()


# -------------------------------------------------------------- documents

def make_documents(root, budget, variant, tag, rng_seed, count_limit=None):
    """Letters, reports and scans under root/documents until budget bytes.
    Returns the list of relative paths written."""
    rng = Rng("docs", variant, tag, rng_seed)
    written = []
    total = 0
    n = 0
    while total < budget and (count_limit is None or n < count_limit):
        n += 1
        pat = person(rng)
        year = rng.between(2019, 2023)
        date = (year, rng.between(1, 12), rng.between(1, 28))
        mtime = DAY1 - (2024 - year) * 31536000 - rng.below(300) * 86400
        if tag != "day1":
            year, date, mtime = 2024, (2024, 6, 2), DAY2 - 3600 + n
        kind_roll = rng.f()
        base = "%s-%s-%s" % (strip_accents(pat["last"]).lower(),
                             strip_accents(pat["first"]).lower(),
                             "%d%02d%02d" % date)
        if kind_roll < 0.45:
            rel = "documents/courriers/%d/%s-%s-%04d.txt" % (
                year, tag, base, n)
            data = letter_text(rng, pat, date, "Courrier").encode("utf-8")
        elif kind_roll < 0.975:
            text = "\n".join(letter_text(rng, pat, date, "Compte rendu")
                             for _ in range(rng.between(1, 4)))
            lines = wrap(text)
            pages = [lines[i:i + 58] for i in range(0, len(lines), 58)]
            rel = "documents/comptes-rendus/%d/%s-%s-%04d.pdf" % (
                year, tag, base, n)
            data = pdf_document(pages, "Compte rendu " + base)
        else:
            w = 600 + 8 * rng.below(60)
            h = 800 + 8 * rng.below(60)
            img = shake(w * h, "scan", variant, tag, n)
            lines = wrap(letter_text(rng, pat, date, "Courrier numérisé"))
            rel = "documents/scans/%d/%s-scan-%s-%04d.pdf" % (
                year, tag, base, n)
            data = pdf_document([lines[:58]], "Scan " + base, (w, h, img))
        write(os.path.join(root, rel), data, mtime)
        written.append(rel)
        total += len(data)
    return written


# ------------------------------------------------------------------ photos

def jpeg_like(size, *seed):
    """Random bytes in a JPEG's clothes: SOI, APP1 'Exif' text, EOI."""
    head = (b"\xff\xd8\xff\xe1\x00\x40Exif\x00\x00" +
            b"Cabinet des Tilleuls - photo clinique".ljust(52, b" "))
    body = shake(size - len(head) - 2, "photo", *seed)
    return head + body + b"\xff\xd9"


def make_photos(root, budget, variant, tag, count_limit=None):
    rng = Rng("photos", variant, tag)
    written = []
    total = 0
    n = 0
    while total + 2_000_000 < budget and (count_limit is None or
                                          n < count_limit):
        n += 1
        size = rng.between(2_000_000, 6_000_000)
        year = rng.between(2019, 2023)
        mtime = DAY1 - (2024 - year) * 31536000 - rng.below(300) * 86400
        if tag != "day1":
            year, mtime = 2024, DAY2 - 1800 + n
        rel = "photos/%d/%s-IMG_%04d.jpg" % (year, tag, n)
        write(os.path.join(root, rel), jpeg_like(size, variant, tag, n),
              mtime)
        written.append(rel)
        total += size
    return written


# --------------------------------------------------------------------- CT

def load_ct(path):
    """The CT volume of an InVesalius project (.inv3: a tar.gz holding
    main.plist and the raw int16 matrix it names)."""
    if np is None:
        die("numpy is missing (Debian: apt-get install python3-numpy)")
    with tarfile.open(path, "r:gz") as tar:
        members = {m.name.split("/")[-1]: m for m in tar.getmembers()
                   if m.isfile()}
        if "main.plist" not in members:
            die("%s: no main.plist (not an InVesalius project?)" % path)
        main = plistlib.loads(tar.extractfile(members["main.plist"]).read())
        mat = main["matrix"]
        shape = tuple(int(x) for x in mat["shape"])
        if mat["dtype"] != "int16" or len(shape) != 3:
            die("%s: unexpected matrix %r" % (path, mat))
        raw = tar.extractfile(members[mat["filename"]]).read()
    want = shape[0] * shape[1] * shape[2] * 2
    if len(raw) < want:
        die("%s: matrix has %d bytes, expected %d" % (path, len(raw), want))
    vol = np.frombuffer(raw[:want], dtype="<i2").reshape(shape)
    spacing = [float(x) for x in main.get("spacing", [1.0, 1.0, 1.0])]
    return vol.astype(np.int32), spacing


def upsample2(a):
    """2x in-plane, bilinear, integer arithmetic."""
    p = np.pad(a, ((0, 1), (0, 1)), mode="edge")
    h, w = a.shape
    out = np.empty((2 * h, 2 * w), dtype=np.int32)
    out[0::2, 0::2] = a
    out[0::2, 1::2] = (p[:-1, :-1] + p[:-1, 1:]) // 2
    out[1::2, 0::2] = (p[:-1, :-1] + p[1:, :-1]) // 2
    out[1::2, 1::2] = (p[:-1, :-1] + p[:-1, 1:] + p[1:, :-1] +
                       p[1:, 1:]) // 4
    return out


def ct_slice_pixels(vol, z, st):
    a = upsample2(vol[z])[::-1, :]  # anterior up
    if st["flip"]:
        a = a[:, ::-1]
    a = np.roll(a, (st["dy"], st["dx"]), axis=(0, 1))
    # HU -> stored value (intercept -1024), patient-specific gain
    a = (a * st["gain"]) // 1000 + 1024
    n = a.size
    b = np.frombuffer(shake(4 * n, "ct-noise", st["uid"], z),
                      dtype=np.uint8).reshape(4, n).astype(np.int32)
    noise = ((b.sum(axis=0) - 510) * st["noise"]) >> 8
    a = a + noise.reshape(a.shape)
    return np.clip(a, 0, 4095).astype("<u2").tobytes()


DUMP = """# Dicom-Meta-Information-Header
(0002,0001) OB 00\\01
(0002,0002) UI =CTImageStorage
(0002,0003) UI [{sop}]
(0002,0010) UI =LittleEndianExplicit
# Dicom-Data-Set
(0008,0005) CS [ISO_IR 100]
(0008,0008) CS [ORIGINAL\\PRIMARY\\AXIAL]
(0008,0012) DA [{date}]
(0008,0016) UI =CTImageStorage
(0008,0018) UI [{sop}]
(0008,0020) DA [{date}]
(0008,0021) DA [{date}]
(0008,0022) DA [{date}]
(0008,0023) DA [{date}]
(0008,0030) TM [{time}]
(0008,0031) TM [{time}]
(0008,0033) TM [{time}]
(0008,0050) SH [{acc}]
(0008,0060) CS [CT]
(0008,0070) LO [Cabinet Imaging Systems]
(0008,0080) LO [Centre d'imagerie des Tilleuls]
(0008,0090) PN [{referrer}]
(0008,1030) LO [{desc}]
(0008,103e) LO [{series_desc}]
(0008,1090) LO [CIS Scanner 64]
(0010,0010) PN [{pname}]
(0010,0020) LO [{pid}]
(0010,0030) DA [{birth}]
(0010,0040) CS [{sex}]
(0010,1010) AS [{age}]
(0018,0015) LO [HEAD]
(0018,0050) DS [{thick}]
(0018,0060) DS [120]
(0018,1151) IS [{ma}]
(0018,5100) CS [HFS]
(0020,000d) UI [{study}]
(0020,000e) UI [{series}]
(0020,0010) SH [{studyid}]
(0020,0011) IS [2]
(0020,0013) IS [{inst}]
(0020,0032) DS [{px}\\{py}\\{pz}]
(0020,0037) DS [1\\0\\0\\0\\1\\0]
(0020,0052) UI [{frame}]
(0020,1041) DS [{pz}]
(0028,0002) US 1
(0028,0004) CS [MONOCHROME2]
(0028,0010) US {rows}
(0028,0011) US {cols}
(0028,0030) DS [{sp}\\{sp}]
(0028,0100) US 16
(0028,0101) US 12
(0028,0102) US 11
(0028,0103) US 0
(0028,1050) DS [40]
(0028,1051) DS [400]
(0028,1052) DS [-1024]
(0028,1053) DS [1]
(7fe0,0010) OW ={raw}
"""


def dicom_name(s):
    return strip_accents(s).upper().replace(" ", "-").replace("'", "")


def make_study(root, vol, spacing, variant, tag, k, slices_range, tmp,
               pool, mtime):
    """One CT study of a fake patient; returns (relative paths, bytes)."""
    rng = Rng("study", variant, tag, k)
    pat = person(rng)
    depth = vol.shape[0]
    lo, hi = slices_range
    nsl = min(depth, rng.between(lo, hi))
    z0 = rng.below(depth - nsl + 1)
    year = rng.between(2019, 2023)
    date = "%d%02d%02d" % (year, rng.between(1, 12), rng.between(1, 28))
    if tag != "day1":
        date = "20240602"
    st = dict(flip=rng.chance(0.3), dy=rng.between(-24, 24),
              dx=rng.between(-24, 24), gain=rng.between(975, 1025),
              noise=int(256 * rng.between(5, 12) / 147.8),
              uid=uid("study", variant, tag, k))
    pid = "P%07d" % (100000 * (variant + 1) + rng.below(99999))
    pname = "%s^%s" % (dicom_name(pat["last"]), dicom_name(pat["first"]))
    sp = spacing[0] / 2
    fields = dict(
        date=date, time="%02d%02d%02d" % (rng.between(8, 18),
                                          rng.below(60), rng.below(60)),
        acc="A%08d" % rng.below(10 ** 8),
        referrer="%s^%s^^Dr" % (dicom_name(rng.pick(LAST)),
                                dicom_name(rng.pick(FIRST_M + FIRST_F))),
        desc="SCANNER CRANIO-FACIAL", series_desc="CRANE 1.5 MM",
        pname=pname, pid=pid,
        birth="%d%02d%02d" % pat["birth"], sex=pat["sex"],
        age="%03dY" % max(0, year - pat["birth"][0]),
        thick="%g" % spacing[2], ma=str(rng.between(80, 300)),
        study=st["uid"], series=uid("series", variant, tag, k),
        studyid=str(rng.below(100000)),
        frame=uid("frame", variant, tag, k),
        rows=2 * vol.shape[1], cols=2 * vol.shape[2], sp="%.6f" % sp,
        px="%.3f" % (-sp * vol.shape[2]), py="%.3f" % (-sp * vol.shape[1]))
    sdir = "imagerie/%s_%s-%s/%s_CT/serie-2" % (
        pid, dicom_name(pat["last"]), dicom_name(pat["first"]), date)
    os.makedirs(os.path.join(root, sdir), exist_ok=True)
    jobs = []
    rels = []
    for i in range(nsl):
        z = z0 + i
        raw = os.path.join(tmp, "s%05d.raw" % i)
        with open(raw, "wb") as f:
            f.write(ct_slice_pixels(vol, z, st))
        f2 = dict(fields, sop=uid("sop", variant, tag, k, i), inst=i + 1,
                  pz="%.2f" % (z * spacing[2]), raw=raw)
        dump = os.path.join(tmp, "s%05d.dump" % i)
        with open(dump, "w", encoding="latin-1") as f:
            f.write(DUMP.format(**f2))
        rel = "%s/IM%06d.dcm" % (sdir, i + 1)
        rels.append(rel)
        jobs.append(pool.submit(run_dump2dcm, dump, raw,
                                os.path.join(root, rel), mtime))
    total = 0
    for j in jobs:
        total += j.result()
    return rels, total


def run_dump2dcm(dump, raw, out, mtime):
    p = subprocess.run(["dump2dcm", "-q", dump, out], capture_output=True,
                       text=True, check=False)
    if p.returncode != 0 or not os.path.exists(out):
        raise RuntimeError("dump2dcm %s failed (exit %d): %s" %
                           (dump, p.returncode, p.stderr.strip()))
    os.utime(out, (mtime, mtime))
    os.unlink(dump)
    os.unlink(raw)
    return os.path.getsize(out)


def make_imaging(root, ct, budget, variant, tag, slices_range, jobs,
                 count_limit=None):
    vol, spacing = load_ct(ct)
    written = []
    total = 0
    k = 0
    half_study = (slices_range[0] + slices_range[1]) // 4 * \
        (8 * vol.shape[1] * vol.shape[2] + 1200)
    if count_limit is None:
        budget -= half_study
    with tempfile.TemporaryDirectory(prefix="coffre-bench-ct.") as tmp, \
            concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        while total < budget and (count_limit is None or k < count_limit):
            k += 1
            mtime = DAY1 - 86400 * (k * 37 % 700) if tag == "day1" \
                else DAY2 - 7200
            rels, n = make_study(root, vol, spacing, variant, tag, k,
                                 slices_range, tmp, pool, mtime)
            written += rels
            total += n
    return written


# -------------------------------------------------------------------- SQL

SQL_HEAD = """-- Dump of the practice database (cabinet), generated for bench/run
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

"""
TABLES = {
    "patients": """CREATE TABLE patients (
    id integer PRIMARY KEY,
    nom text NOT NULL,
    prenom text NOT NULL,
    date_naissance date NOT NULL,
    sexe char(1) NOT NULL,
    nir char(15),
    adresse text,
    code_postal char(5),
    ville text,
    telephone text,
    email text,
    medecin_traitant text,
    cree_le timestamp NOT NULL
);
""",
    "rendez_vous": """CREATE TABLE rendez_vous (
    id integer PRIMARY KEY,
    patient_id integer NOT NULL REFERENCES patients(id),
    praticien text NOT NULL,
    debut timestamp NOT NULL,
    duree_min integer NOT NULL,
    motif text,
    statut text NOT NULL,
    salle text
);
""",
    "factures": """CREATE TABLE factures (
    id integer PRIMARY KEY,
    patient_id integer NOT NULL REFERENCES patients(id),
    rendez_vous_id integer REFERENCES rendez_vous(id),
    emise_le date NOT NULL,
    montant numeric(8,2) NOT NULL,
    part_amo numeric(8,2) NOT NULL,
    part_amc numeric(8,2) NOT NULL,
    mode_paiement text,
    statut text NOT NULL
);
""",
    "notes": """CREATE TABLE notes (
    id integer PRIMARY KEY,
    rendez_vous_id integer NOT NULL REFERENCES rendez_vous(id),
    texte text NOT NULL
);
""",
}
MOTIFS = ["consultation", "controle", "renouvellement ordonnance",
          "detartrage", "soins conservateurs", "urgence douleur",
          "bilan annuel", "vaccination", "certificat sport",
          "suivi diabete", "suivi tension", "pansement", "radiographie",
          "teleconsultation"]
PAYMENTS = ["carte", "cheque", "especes", "tiers payant", "virement"]


def sql_quote(s):
    return "'" + s.replace("'", "''") + "'"


def ts(t):
    """timestamp text from seconds since 2015-01-01."""
    d, s = divmod(int(t), 86400)
    y = 2015
    while True:
        ylen = 366 if (y % 4 == 0) else 365
        if d < ylen:
            break
        d -= ylen
        y += 1
    months = [31, 29 if y % 4 == 0 else 28, 31, 30, 31, 30, 31, 31, 30,
              31, 30, 31]
    m = 0
    while d >= months[m]:
        d -= months[m]
        m += 1
    return "%d-%02d-%02d %02d:%02d:00" % (y, m + 1, d + 1, s // 3600,
                                          s % 3600 // 60)


def make_sql(path1, path2, budget, variant):
    """Writes the day-1 dump to path1 and the day-2 dump to path2 (None:
    day 1 only) in one pass: the same rows, ~1% of them changed in the
    middle of the file, rows appended to each table."""
    r = Rng("sql", variant)       # the rows
    m = Rng("sql-day2", variant)  # the changes
    # table sizes from the budget (measured bytes per row)
    budget = budget * 0.943
    n_pat = int(budget * 0.13 / 205)
    n_rdv = int(budget * 0.52 / 118)
    n_fac = int(budget * 0.21 / 118)
    n_not = int(budget * 0.14 / 160)
    total_lines = n_pat + n_rdv + n_fac + n_not
    f1 = open(path1, "w", encoding="utf-8", buffering=MiB)
    f2 = open(path2, "w", encoding="utf-8", buffering=MiB) if path2 else None
    changed = 0

    def both(s, s2=None):
        f1.write(s)
        if f2 is not None:
            f2.write(s if s2 is None else s2)

    both(SQL_HEAD)
    # ---- patients: a few sparse updates, new patients appended
    both(TABLES["patients"] + "\n")
    sparse = set(m.below(n_pat) for _ in range(max(4, n_pat // 5000)))
    t_created = 0

    def patient_row(rr):
        p = person(rr)
        city, cp = rr.pick(CITIES)
        street = "%d %s" % (rr.between(1, 180), rr.pick(STREETS))
        phone = "06%08d" % rr.below(10 ** 8)
        email = "%s.%s%d@exemple.fr" % (
            strip_accents(p["first"]).lower(),
            strip_accents(p["last"]).lower(), rr.below(100))
        nir = "%d%02d%02d%02d%03d%03d" % (
            1 if p["sex"] == "M" else 2, p["birth"][0] % 100, p["birth"][1],
            rr.between(1, 95), rr.below(1000), rr.below(1000))
        doc = rr.pick(PRACTITIONERS)
        return p, (street, cp, city, phone, email, nir, doc)

    for i in range(1, n_pat + 1):
        p, (street, cp, city, phone, email, nir, doc) = patient_row(r)
        t_created += r.between(600, 9000)
        row = ("INSERT INTO patients VALUES (%d, %s, %s, '%d-%02d-%02d', "
               "'%s', '%s', %s, '%s', %s, '%s', %s, %s, '%s');\n")
        line1 = row % (i, sql_quote(p["last"]), sql_quote(p["first"]),
                       *p["birth"], p["sex"], nir, sql_quote(street), cp,
                       sql_quote(city), phone, sql_quote(email),
                       sql_quote(doc), ts(t_created))
        line2 = None
        if f2 is not None and i in sparse:
            city2, cp2 = m.pick(CITIES)
            street2 = "%d %s" % (m.between(1, 180), m.pick(STREETS))
            line2 = row % (i, sql_quote(p["last"]), sql_quote(p["first"]),
                           *p["birth"], p["sex"], nir, sql_quote(street2),
                           cp2, sql_quote(city2), "07%08d" % m.below(10**8),
                           sql_quote(email), sql_quote(doc), ts(t_created))
            changed += 1
        both(line1, line2)
    if f2 is not None:
        for i in range(n_pat + 1, n_pat + 1 + max(3, n_pat // 3000)):
            p, (street, cp, city, phone, email, nir, doc) = patient_row(m)
            f2.write("INSERT INTO patients VALUES (%d, %s, %s, "
                     "'%d-%02d-%02d', '%s', '%s', %s, '%s', %s, '%s', %s, "
                     "%s, '2024-06-02 09:%02d:00');\n" % (
                         i, sql_quote(p["last"]), sql_quote(p["first"]),
                         *p["birth"], p["sex"], nir, sql_quote(street), cp,
                         sql_quote(city), phone, sql_quote(email),
                         sql_quote(doc), i % 60))
            changed += 1
    both("\n")
    # ---- appointments: chronological; the most recent ones are still
    # "planifie" on day 1 and get their outcome on day 2 (the dense block
    # of changes, in the middle of the file)
    both(TABLES["rendez_vous"] + "\n")
    n_recent = int(total_lines * 0.0085)
    t = 0.0
    step = (9.4 * 365 * 86400) / n_rdv
    for i in range(1, n_rdv + 1):
        t += step * 2 * r.f()
        day_s = int(t) - int(t) % 86400 + 8 * 3600 + 900 * r.below(40)
        recent = i > n_rdv - n_recent
        status = "planifie" if recent else (
            "honore" if r.chance(0.9) else r.pick(["annule", "absent"]))
        row = ("INSERT INTO rendez_vous VALUES (%d, %d, %s, '%s', %d, %s, "
               "'%s', '%s');\n")
        args = (i, 1 + r.below(n_pat), sql_quote(r.pick(PRACTITIONERS)),
                ts(day_s), 15 * r.between(1, 4), sql_quote(r.pick(MOTIFS)))
        salle = "salle %d" % r.between(1, 4)
        line1 = row % (args + (status, salle))
        line2 = None
        if f2 is not None and recent and m.chance(0.9):
            out = "honore" if m.chance(0.85) else m.pick(["annule",
                                                          "absent"])
            line2 = row % (args + (out, salle))
            changed += 1
        both(line1, line2)
    if f2 is not None:
        for i in range(n_rdv + 1, n_rdv + 1 + max(10, n_rdv // 1500)):
            t += step
            f2.write("INSERT INTO rendez_vous VALUES (%d, %d, %s, '%s', %d, "
                     "%s, 'planifie', 'salle %d');\n" % (
                         i, 1 + m.below(n_pat),
                         sql_quote(m.pick(PRACTITIONERS)),
                         ts(int(t) - int(t) % 900), 15 * m.between(1, 4),
                         sql_quote(m.pick(MOTIFS)), m.between(1, 4)))
            changed += 1
    both("\n")
    # ---- invoices: the unpaid recent ones get paid on day 2
    both(TABLES["factures"] + "\n")
    n_unpaid = int(total_lines * 0.0012)
    for i in range(1, n_fac + 1):
        rdv = min(n_rdv, int(i * n_rdv / n_fac) + r.below(5))
        amount = r.between(2300, 12000)
        amo = amount * 70 // 100
        amc = amount - amo if r.chance(0.8) else 0
        unpaid = i > n_fac - n_unpaid
        row = ("INSERT INTO factures VALUES (%d, %d, %d, '%s', %d.%02d, "
               "%d.%02d, %d.%02d, %s, '%s');\n")
        args = (i, 1 + r.below(n_pat), rdv, ts(rdv * step)[:10],
                amount // 100, amount % 100, amo // 100, amo % 100,
                amc // 100, amc % 100, sql_quote(r.pick(PAYMENTS)))
        line1 = row % (args + ("en attente" if unpaid else "payee",))
        line2 = None
        if f2 is not None and unpaid and m.chance(0.8):
            line2 = row % (args + ("payee",))
            changed += 1
        both(line1, line2)
    if f2 is not None:
        for i in range(n_fac + 1, n_fac + 1 + max(5, n_fac // 2000)):
            f2.write("INSERT INTO factures VALUES (%d, %d, NULL, "
                     "'2024-06-02', 25.00, 17.50, 7.50, 'carte', "
                     "'payee');\n" % (i, 1 + m.below(n_pat)))
            changed += 1
    both("\n")
    # ---- consultation notes: free text
    both(TABLES["notes"] + "\n")
    for i in range(1, n_not + 1):
        rdv = 1 + r.below(n_rdv)
        words = " ".join(fill_sentence(r, "le patient", (2023, 1, 1))
                         for _ in range(r.between(1, 2)))
        both("INSERT INTO notes VALUES (%d, %d, %s);\n" %
             (i, rdv, sql_quote(words)))
    both("\n-- end of dump\n")
    f1.close()
    os.utime(path1, (DAY1 - 3600, DAY1 - 3600))
    if f2 is not None:
        f2.close()
        os.utime(path2, (DAY2 - 600, DAY2 - 600))
    return total_lines, changed


# ------------------------------------------------------------- generation

def readme(tag):
    text = ("Cabinet médical des Tilleuls - sauvegarde\n"
            "Données de test générées pour bench/run (aucune donnée "
            "réelle de patient).\n")
    if tag == "day2":
        text += "Jour 2 : nouvelle étude, nouveaux documents.\n"
    return text.encode("utf-8")


def set_dir_times(root, mtime):
    for dirpath, _dirs, _files in os.walk(root, topdown=False):
        os.utime(dirpath, (mtime, mtime))


def generate(args):
    sc = SCALES[args.scale]
    final = os.path.abspath(args.dir)
    tmp = final + ".tmp"
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    practice = os.path.join(tmp, "practice")
    day2 = os.path.join(tmp, "day2")
    os.makedirs(practice)
    v = args.variant
    jobs = max(1, args.jobs)
    info = dict(version=VERSION, scale=args.scale, variant=v)
    sizes = {}

    def du(rels, root):
        return sum(os.path.getsize(os.path.join(root, x)) for x in rels)

    # day 1
    log("CT studies (dcmtk dump2dcm)")
    rels = make_imaging(practice, args.ct, sc["dicom"], v, "day1",
                        sc["slices"], jobs)
    sizes["imaging"] = [len(rels), du(rels, practice)]
    log("documents")
    rels = make_documents(practice, sc["docs"], v, "day1", 0)
    sizes["documents"] = [len(rels), du(rels, practice)]
    log("photos")
    rels = make_photos(practice, sc["photos"], v, "day1")
    sizes["photos"] = [len(rels), du(rels, practice)]
    log("SQL dump")
    sql1 = os.path.join(practice, "logiciel/dump/cabinet.sql")
    os.makedirs(os.path.dirname(sql1))
    sql2 = None
    if not args.no_day2:
        sql2 = os.path.join(day2, "logiciel/dump/cabinet.sql")
        os.makedirs(os.path.dirname(sql2))
    lines, changed = make_sql(sql1, sql2, sc["sql"], v)
    sizes["sql"] = [1, os.path.getsize(sql1)]
    write(os.path.join(practice, "LISEZMOI.txt"), readme("day1"), DAY1)
    set_dir_times(practice, DAY1)
    info["day1"] = sizes
    info["day1_bytes"] = sum(x[1] for x in sizes.values()) + len(
        readme("day1"))
    info["day1_files"] = sum(x[0] for x in sizes.values()) + 1

    if not args.no_day2:
        log("day 2")
        d2 = {}
        rels = make_imaging(day2, args.ct, 1, v, "day2", sc["slices"], jobs,
                            count_limit=1)
        d2["new_imaging"] = [len(rels), du(rels, day2)]
        rels = make_documents(day2, 1 << 40, v, "day2", 0, count_limit=12)
        d2["new_documents"] = [len(rels), du(rels, day2)]
        rels = make_photos(day2, 1 << 40, v, "day2", count_limit=2)
        d2["new_photos"] = [len(rels), du(rels, day2)]
        d2["sql"] = dict(lines=lines, changed_or_added=changed,
                         bytes_day1=os.path.getsize(sql1),
                         bytes_day2=os.path.getsize(sql2))
        write(os.path.join(day2, "LISEZMOI.txt"), readme("day2"), DAY2)
        # touched: every slice of the first study, and every 40th document
        touch = []
        for dirpath, _dirs, files in os.walk(practice):
            for fn in files:
                rel = os.path.relpath(os.path.join(dirpath, fn), practice)
                touch.append(rel)
        touch.sort()
        first_study = sorted(x for x in touch if x.startswith("imagerie/"))
        first_study = [x for x in first_study
                       if x.split("/")[1] == first_study[0].split("/")[1]]
        docs = [x for x in touch if x.startswith("documents/")][::40]
        touch = first_study + docs
        with open(os.path.join(tmp, "day2-touch.txt"), "w") as f:
            f.write("".join(x + "\n" for x in touch))
        d2["touched"] = [len(touch), sum(os.path.getsize(
            os.path.join(practice, x)) for x in touch)]
        info["day2"] = d2

    log("manifest")
    info["manifest_day1_sha256"] = manifest(
        practice, os.path.join(tmp, "manifest-day1"))
    digest = corpus_digest(tmp)
    info["digest"] = digest
    with open(os.path.join(tmp, "info.json"), "w") as f:
        json.dump(info, f, indent=1, sort_keys=True)
        f.write("\n")
    if os.path.exists(final):
        shutil.rmtree(final)
    os.rename(tmp, final)
    print(digest)


def apply_day2(args):
    """Copy day2/ over TREE (LISEZMOI.txt last, so that the newest change
    is a small file), then set the touched files' mtime."""
    src = os.path.join(args.corpus, "day2")
    tree = args.tree
    todo = []
    for dirpath, _dirs, files in os.walk(src):
        for fn in files:
            todo.append(os.path.relpath(os.path.join(dirpath, fn), src))
    todo.sort(key=lambda x: (x == "LISEZMOI.txt", x))
    with open(os.path.join(args.corpus, "day2-touch.txt")) as f:
        touch = [x.rstrip("\n") for x in f if x.strip()]
    for rel in touch:
        p = os.path.join(tree, rel)
        if not os.path.isfile(p):
            die("apply-day2: %s is missing from %s" % (rel, tree))
        os.utime(p, (DAY2, DAY2))
    for rel in todo:
        dst = os.path.join(tree, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        tmp = dst + ".day2-tmp"
        shutil.copyfile(os.path.join(src, rel), tmp)
        st = os.stat(os.path.join(src, rel))
        os.utime(tmp, (st.st_mtime, st.st_mtime))
        os.replace(tmp, dst)


# --------------------------------------------------------------- manifest

def hash_file(path):
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        while True:
            b = f.read(MiB)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def manifest_lines(root):
    files = []
    for dirpath, dirs, names in os.walk(root):
        dirs.sort()
        for fn in names:
            p = os.path.join(dirpath, fn)
            if os.path.islink(p) or not os.path.isfile(p):
                files.append((os.path.relpath(p, root), None))
            else:
                files.append((os.path.relpath(p, root), p))
    files.sort()
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as ex:
        hashes = ex.map(lambda x: hash_file(x[1]) if x[1] else "not-a-file",
                        files)
        return ["%s  %d  %s\n" % (h, os.path.getsize(p) if p else 0, rel)
                for (rel, p), h in zip(files, hashes)]


def manifest(root, out):
    lines = manifest_lines(root)
    text = "".join(lines).encode("utf-8")
    if out:
        with open(out + ".tmp", "wb") as f:
            f.write(text)
        os.replace(out + ".tmp", out)
    return hashlib.sha256(text).hexdigest()


def corpus_digest(cdir):
    """sha256 over the manifests of practice/ and day2/ and the touch list:
    the identity of a corpus, compared with REFERENCE."""
    h = hashlib.sha256()
    for sub in ("practice", "day2"):
        p = os.path.join(cdir, sub)
        h.update(("[%s]\n" % sub).encode())
        if os.path.isdir(p):
            h.update("".join(manifest_lines(p)).encode("utf-8"))
    t = os.path.join(cdir, "day2-touch.txt")
    if os.path.exists(t):
        with open(t, "rb") as f:
            h.update(b"[touch]\n" + f.read())
    return h.hexdigest()


def cmd_verify(args):
    """Exit 0 and print the digest if CORPUSDIR is complete and intact."""
    try:
        with open(os.path.join(args.dir, "info.json")) as f:
            info = json.load(f)
    except (OSError, ValueError) as e:
        die("no usable info.json in %s: %s" % (args.dir, e))
    if info.get("version") != VERSION or info.get("scale") != args.scale \
            or info.get("variant") != args.variant:
        die("%s was made by another version or with other parameters" %
            args.dir)
    d = corpus_digest(args.dir)
    if d != info.get("digest"):
        die("%s: contents changed since generated" % args.dir)
    print(d)


def cmd_reference(args):
    print(REFERENCE.get((args.scale, args.variant), "unknown"))


def cmd_manifest(args):
    print(manifest(args.dir, args.out))


def cmd_compare(args):
    with open(args.manifest, encoding="utf-8") as f:
        want = f.read().splitlines(True)
    got = manifest_lines(args.dir)
    if want == got:
        print("identical: %d files" % len(got))
        return
    w = {ln.split("  ", 2)[2]: ln for ln in want}
    g = {ln.split("  ", 2)[2]: ln for ln in got}
    problems = []
    for rel in sorted(set(w) | set(g)):
        if rel not in g:
            problems.append("missing: " + rel.rstrip("\n"))
        elif rel not in w:
            problems.append("unexpected: " + rel.rstrip("\n"))
        elif w[rel] != g[rel]:
            problems.append("different: " + rel.rstrip("\n"))
    for p in problems[:20]:
        print("compare: " + p, file=sys.stderr)
    die("%s differs from %s: %d problem(s)" % (args.dir, args.manifest,
                                               len(problems)))


def log(msg):
    print("corpus: " + msg, file=sys.stderr, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--scale", choices=sorted(SCALES), required=True)
    g.add_argument("--variant", type=int, default=0)
    g.add_argument("--ct", required=True)
    g.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    g.add_argument("--no-day2", action="store_true")
    g.add_argument("dir")
    a = sub.add_parser("apply-day2")
    a.add_argument("corpus")
    a.add_argument("tree")
    m = sub.add_parser("manifest")
    m.add_argument("--out")
    m.add_argument("dir")
    v = sub.add_parser("verify")
    v.add_argument("--scale", choices=sorted(SCALES), required=True)
    v.add_argument("--variant", type=int, default=0)
    v.add_argument("dir")
    r = sub.add_parser("reference")
    r.add_argument("--scale", choices=sorted(SCALES), required=True)
    r.add_argument("--variant", type=int, default=0)
    sub.add_parser("version")
    c = sub.add_parser("compare")
    c.add_argument("manifest")
    c.add_argument("dir")
    args = ap.parse_args()
    {"generate": generate, "apply-day2": apply_day2,
     "manifest": cmd_manifest, "compare": cmd_compare, "verify": cmd_verify,
     "reference": cmd_reference,
     "version": lambda _a: print(VERSION)}[args.cmd](args)


if __name__ == "__main__":
    main()
